"""Two demo people in two headless Chromium windows: one sends, the other sees it live; then the rating page.

Run through Tests/browser/run.sh, which starts the demo server and passes ZVONOK_SERVER_LOG (where the
sign-in links were printed) and ZVONOK_BROWSER_OUTPUT (where screenshots go).
"""

import os
import re
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import (ElementNotInteractableException, NoSuchElementException,
                                        StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

OUTPUT = os.environ["ZVONOK_BROWSER_OUTPUT"]
WAIT = 20


def sign_in_links(log_path):
    """Role and name → link, from the table `serve --demo` prints."""
    links = {}
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            match = re.match(r"\s+(.+?):\s+(.+?)\s+(http://\S+#invite=\S+)\s*$", line)
            if match:
                links.setdefault((match.group(1), match.group(2)), match.group(3))
    if not links:
        sys.exit("no sign-in links in the server's output")
    return links


def browser(width, height):
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=ru-RU",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    if width < 500:  # a headless window is never narrower than 500 px; a phone is emulated instead
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}})
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(options=options, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")))
    driver.set_page_load_timeout(WAIT)
    return driver


def wait(driver):
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException,
                                                          ElementNotInteractableException))


def save_failure(drivers):
    """A screenshot and the browser console of each window, named `failure-NAME`."""
    for name, driver in drivers.items():
        driver.save_screenshot(os.path.join(OUTPUT, f"failure-{name}.png"))
        with open(os.path.join(OUTPUT, f"failure-{name}-console.txt"), "w", encoding="utf-8") as log:
            for entry in driver.get_log("browser"):
                log.write(f"{entry}\n")


def open_chat(driver, title):
    """Clicks the chat in the list until it is open: the list is redrawn as messages arrive, so a button found a
    moment ago may be gone by the time it is clicked."""
    def opened(driver):
        driver.find_element(By.XPATH, f"//nav[@id='chats']//button[span[text()='{title}']]").click()
        return driver.find_element(By.ID, "chat-title").text == title
    wait(driver).until(opened)


def sees_message(driver, text):
    wait(driver).until(EC.presence_of_element_located(
        (By.XPATH, f"//div[@id='messages']//article[@data-seq]//div[@class='text'][text()='{text}']")))


def make_photo(folder):
    """A real JPEG drawn by libvips (Debian's libvips-tools, which .ci/run installs)."""
    raw, photo = os.path.join(folder, "xyz.v"), os.path.join(folder, "доска.jpg")
    subprocess.run(["vips", "xyz", raw, "640", "480"], check=True)
    subprocess.run(["vips", "cast", raw, photo, "uchar"], check=True)
    return photo


def share_files(teacher, student):
    """The teacher attaches a photo and a PDF and sends them; the student sees the photo's preview, opens it full
    size, and downloads the PDF."""
    folder = tempfile.mkdtemp(prefix="zvonok-browser-files-")
    photo = make_photo(folder)
    pdf = os.path.join(folder, "Расписание.pdf")
    with open(pdf, "wb") as file:
        file.write(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    teacher.find_element(By.ID, "file-input").send_keys(photo + "\n" + pdf)
    uploaded = lambda d: [item.get_attribute("data-id") for item in d.find_elements(By.CSS_SELECTOR, "#attachments li")]
    wait(teacher).until(lambda d: len(uploaded(d)) == 2 and all(uploaded(d)))
    teacher.find_element(By.ID, "composer-text").send_keys("Фото доски и расписание", Keys.ENTER)
    sees_message(student, "Фото доски и расписание")
    preview = "//article[div[@class='text'][text()='Фото доски и расписание']]//img[@class='preview']"
    wait(student).until(lambda d: d.execute_script("return arguments[0].naturalWidth", d.find_element(By.XPATH, preview)) > 0)
    width = student.execute_script("return arguments[0].naturalWidth", student.find_element(By.XPATH, preview))
    assert width <= 320, f"the preview is {width} px wide"
    student.find_element(By.XPATH, preview).click()
    wait(student).until(lambda d: d.execute_script("return document.querySelector('#viewer img').naturalWidth") == 640)
    student.save_screenshot(os.path.join(OUTPUT, "photo-viewer.png"))
    student.find_element(By.CSS_SELECTOR, "#viewer form button").click()
    downloads = os.path.join(folder, "downloads")
    os.makedirs(downloads)
    student.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    student.find_element(By.XPATH, "//button[@class='file-chip'][contains(., 'Расписание.pdf')]").click()
    target = os.path.join(downloads, "Расписание.pdf")
    wait(student).until(lambda d: os.path.exists(target) and os.path.getsize(target) > 0)
    with open(pdf, "rb") as sent, open(target, "rb") as received:
        assert sent.read() == received.read(), "the downloaded PDF differs from the one sent"


def main():
    links = sign_in_links(os.environ["ZVONOK_SERVER_LOG"])
    teacher_link = links[("учитель", "Анна Сергеевна Иванова")]
    student_link = links[("ученик", "Миша Соколов")]
    ministry_link = next(link for (role, _), link in links.items() if role == "министерство")
    assert "/rating#invite=" in ministry_link, ministry_link

    teacher, student = browser(1200, 800), browser(390, 844)
    try:
        teacher.get(teacher_link)
        student.get(student_link)
        for driver in (teacher, student):
            wait(driver).until(EC.visibility_of_element_located((By.ID, "app")))
            assert "#invite" not in driver.current_url, "the invite code stays out of the address bar"
        open_chat(teacher, "5А класс")
        open_chat(student, "5А класс")
        sees_message(student, "Да, и тетрадь для контрольных.")  # history loaded

        text = "Контрольная начнётся в 9:00, не опаздывайте."
        box = teacher.find_element(By.ID, "composer-text")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        sees_message(teacher, text)   # acked
        sees_message(student, text)   # delivered live to the other window

        # The student's connection drops; what the teacher sends meanwhile arrives once, through `sync` on reconnect.
        student.execute_script("state.socket.close()")
        wait(student).until(lambda d: d.execute_script("return !state.connected"))
        missed = "Кабинет 12, второй этаж."
        teacher.find_element(By.ID, "composer-text").send_keys(missed, Keys.ENTER)
        sees_message(teacher, missed)
        sees_message(student, missed)
        assert student.execute_script("return state.connected"), "reconnected"
        copies = student.find_elements(By.XPATH, f"//div[@id='messages']//div[@class='text'][text()='{missed}']")
        assert len(copies) == 1, f"{len(copies)} copies of the missed message"

        reply = "Поняла, спасибо!"
        student.find_element(By.ID, "composer-text").send_keys(reply, Keys.ENTER)
        sees_message(teacher, reply)
        share_files(teacher, student)
        time.sleep(0.5)
        teacher.save_screenshot(os.path.join(OUTPUT, "chat.png"))
        student.save_screenshot(os.path.join(OUTPUT, "chat-phone.png"))

        # Infinite scroll: after 80 more messages a fresh page shows the newest 50 and fetches the rest on scrolling up.
        teacher.execute_script("""for (let i = 1; i <= 80; i++) state.socket.send(JSON.stringify(
            {type: "send", chat: state.open, cid: `bulk-${i}`, text: `Сообщение ${i}`}))""")
        sees_message(student, "Сообщение 80")
        student.refresh()
        open_chat(student, "5А класс")
        shown = lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages article[data-seq]"))
        wait(student).until(lambda d: shown(d) == 50)
        assert not student.find_elements(By.CSS_SELECTOR, "#messages .history-edge"), "more history to come"
        student.execute_script("document.getElementById('messages').scrollTop = 0")
        wait(student).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#messages .history-edge")))
        assert shown(student) == 88, shown(student)  # 4 sample messages, 4 sent above, 80 here
        sees_message(student, "Доброе утро! Завтра контрольная по математике, повторите дроби.")

        # The rating, as the ministry sees it: this week, the demo region's schools.
        teacher.get(ministry_link)
        wait(teacher).until(EC.visibility_of_element_located((By.ID, "rating-section")))
        this_week = teacher.execute_script("return Session.isoWeek(new Date())")
        teacher.execute_script("document.getElementById('week').value = arguments[0]", this_week)
        Select(teacher.find_element(By.ID, "level")).select_by_value("school")
        region = teacher.find_element(By.ID, "region")
        region.clear()
        region.send_keys("99")
        teacher.find_element(By.CSS_SELECTOR, "#rating-form button[type=submit]").click()
        wait(teacher).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rating-rows tr")) == 2)
        wait(teacher).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#chart svg rect")))
        ranks = [row.find_element(By.TAG_NAME, "td").text for row in teacher.find_elements(By.CSS_SELECTOR, "#rating-rows tr")]
        assert ranks == ["1", "2"], ranks
        teacher.save_screenshot(os.path.join(OUTPUT, "rating.png"))
        csv = teacher.execute_async_script("""const done = arguments[arguments.length - 1];
            Session.api(query(), { accept: "text/csv" }).then(done, (error) => done(`failed: ${error.message}`))""")
        lines = csv.strip().splitlines()
        assert lines[0].startswith("id,name,") and len(lines) == 3, csv
        print("browser test passed; screenshots in", OUTPUT)
    except Exception:
        save_failure({"teacher": teacher, "student": student})
        raise
    finally:
        teacher.quit()
        student.quit()


if __name__ == "__main__":
    main()
