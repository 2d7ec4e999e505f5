"""The admin console (/admin) in headless Chromium, issue 19.

A municipal admin creates a school and its admin and renames the school; that admin (on a 360 px phone) creates a class, uploads a roster
with one bad row, sees it refused in the dry run, fixes it, applies it and prints the invite sheet (rendered to PDF
by Chromium); one printed invite is activated in a second window; the school admin is refused another school's
pages; the ministry opens the trend dashboard over the weeks `zvonok demo-data` made. Run through
Tests/browser/run.sh, which starts the server and passes ZVONOK_SERVER_LOG, ZVONOK_BROWSER_OUTPUT and ZVONOK_URL.
"""

import base64
import json
import os
import subprocess
import tempfile
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from test_web_client import OUTPUT, browser, save_failure, wait

URL = os.environ["ZVONOK_URL"]


def api(method, path, token=None, body=None):
    request = urllib.request.Request(URL + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def activate(code):
    return api("POST", f"/v1/invites/{code}/activate", body={})["token"]


def sign_in(driver, token):
    driver.get(URL + "/admin")
    driver.execute_script("localStorage.setItem('zvonok.token', arguments[0])", token)
    driver.get(URL + "/admin")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "console")))


def submit_form(driver, title, values):
    form = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"form[aria-label='{title}']")))
    for name, value in values.items():
        control = form.find_element(By.NAME, name)
        if control.tag_name == "select":
            Select(control).select_by_value(value)
        else:
            control.clear()
            control.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def open_node(driver, name):
    wait(driver).until(lambda d: d.find_element(By.XPATH, f"//ul[@id='tree']//button[contains(., '{name}')]")).click()
    wait(driver).until(lambda d: name in d.find_element(By.ID, "page-title").text)


def issued_code(driver, name):
    notice = wait(driver).until(lambda d: d.find_element(By.XPATH, f"//div[@class='notice']/strong[starts-with(., '{name}:')]"))
    return notice.text.rsplit(" ", 1)[1]


def write_roster(rows):
    handle, path = tempfile.mkstemp(suffix=".csv", dir=OUTPUT)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write("type;externalId;name;role;grade;letter;year;class;classes;homeroom;students\r\n")
        file.write("".join(row + "\r\n" for row in rows))
    return path


def main():
    ministry = os.environ["ZVONOK_MINISTRY_TOKEN"]  # the demo ministry's link is the chat test's to use
    regional = activate(api("POST", "/v1/regions/99/admins", ministry, {"name": "Регион 99"})["inviteCode"])
    municipality = api("GET", "/v1/regions/99/municipalities", regional)["items"][0]
    municipal = activate(api("POST", f"/v1/municipalities/{municipality['id']}/admins", regional, {"name": "Ольга Муниципальная"})["inviteCode"])
    other_school = api("GET", f"/v1/municipalities/{municipality['id']}/schools", regional)["items"][0]

    desk, phone, pupil = browser(1280, 900), browser(360, 780), browser(1000, 800)
    drivers = {"desk": desk, "phone": phone, "pupil": pupil}
    try:
        # The municipal admin creates a school and appoints its admin.
        sign_in(desk, municipal)
        wait(desk).until(lambda d: municipality["name"] in d.find_element(By.ID, "page-title").text)
        submit_form(desk, "Новая школа", {"name": "Школа №3 имени В. Звонарёва"})
        open_node(desk, "Школа №3")
        submit_form(desk, "Новый сотрудник", {"name": "Мария Директорова", "role": "school_admin"})
        admin_code = issued_code(desk, "Мария Директорова")
        desk.find_element(By.XPATH, "//button[text()='Переименовать']").click()
        prompt = wait(desk).until(EC.alert_is_present())
        prompt.send_keys("Школа №3 имени В. Звонарёвой")
        prompt.accept()
        wait(desk).until(lambda d: d.find_element(By.ID, "page-title").text.endswith("Звонарёвой"))
        wait(desk).until(lambda d: d.find_element(By.XPATH, "//ul[@id='tree']//button[contains(., 'Звонарёвой')]"))
        desk.save_screenshot(os.path.join(OUTPUT, "admin-console.png"))
        # Removing it is asked first and refused while it holds its admin: the server's reason is shown.
        desk.find_element(By.XPATH, "//button[text()='Удалить']").click()
        wait(desk).until(EC.alert_is_present()).accept()
        wait(desk).until(lambda d: "still has 1 person" in d.find_element(By.ID, "error").text)
        assert "Звонарёвой" in desk.find_element(By.ID, "page-title").text

        # The school's admin, on a phone: a class, then a roster with one bad row, refused in the dry run.
        phone.get(f"{URL}/admin#invite={admin_code}")
        wait(phone).until(lambda d: "Школа №3" in d.find_element(By.ID, "page-title").text)
        submit_form(phone, "Новый класс", {"grade": "5", "letter": "А"})
        wait(phone).until(lambda d: d.find_element(By.XPATH, "//ul[@id='tree']//button[contains(., '5А')]"))
        good = ["class;K5A;;;5;А;2026/2027;;;;", "student;S1;Петров Пётр;;;;;K5A;;;", "guardian;G1;Петрова Анна;;;;;;;;S1"]
        # The school page is drawn again after the class is made: wait for its roster form.
        wait(phone).until(lambda d: d.find_element(By.ID, "roster-file"))
        phone.find_element(By.ID, "roster-file").send_keys(write_roster(good + ["student;S2;Сидорова Света;;;;;K9Z;;;"]))
        report = wait(phone).until(lambda d: d.find_element(By.XPATH, "//div[@id='roster-preview']//table[caption='Отклонённые строки']"))
        assert "K9Z" in report.text and "5" in report.find_element(By.CSS_SELECTOR, "tbody td").text, report.text
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", report)
        phone.save_screenshot(os.path.join(OUTPUT, "admin-roster-phone.png"))
        phone.find_element(By.ID, "roster-file").send_keys(write_roster(good + ["student;S2;Сидорова Света;;;;;K5A;;;"]))
        wait(phone).until(lambda d: "Ошибок нет" in d.find_element(By.ID, "roster-preview").text)
        phone.find_element(By.ID, "roster-apply").click()
        wait(phone).until(lambda d: "Список загружен" in d.find_element(By.ID, "view").text)
        assert not phone.execute_script("return document.documentElement.scrollWidth > 360"), "no sideways scrolling at 360 px"

        # The invite sheet, printed to PDF: one slip per person, each with its code and QR code.
        phone.execute_script("window.print = () => {}")
        phone.find_element(By.XPATH, "//button[text()='Печать листа приглашений']").click()
        wait(phone).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#invite-sheet .slip")) == 3)
        wait(phone).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#invite-sheet .slip img[src^='data:image/png']")) == 3)
        codes = [element.get_attribute("textContent") for element in phone.find_elements(By.CSS_SELECTOR, "#invite-sheet .slip-code")]
        assert len(codes) == 3 and all(len(code) == 24 for code in codes), codes
        pdf = base64.b64decode(phone.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})["data"])
        pdf_path = os.path.join(OUTPUT, "invite-sheet.pdf")
        with open(pdf_path, "wb") as file:
            file.write(pdf)
        text = subprocess.run(["pdftotext", pdf_path, "-"], check=True, capture_output=True, text=True).stdout
        assert all(code in text for code in codes), (codes, text)
        images = subprocess.run(["pdfimages", "-list", pdf_path], check=True, capture_output=True, text=True).stdout
        assert len([line for line in images.splitlines()[2:] if " image " in line]) >= 3, images
        desk.get(f"{URL}/admin")  # the sheet as printed, for the docs: A4 width, print media
        sheet_html = phone.execute_script("return document.getElementById('invite-sheet').outerHTML")
        desk.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        desk.execute_script("document.body.insertAdjacentHTML('beforeend', arguments[0])", sheet_html.replace(" hidden=\"\"", ""))
        desk.save_screenshot(os.path.join(OUTPUT, "invite-sheet.png"))
        desk.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

        # One printed invite, activated in a second window.
        pupil.get(f"{URL}/#invite={codes[0]}")
        wait(pupil).until(EC.visibility_of_element_located((By.ID, "app")))

        # The new school year, checked first: the dry run's plan, then applied; 5А becomes 6А in the tree.
        phone.find_element(By.ID, "rollover-check").click()
        plan = wait(phone).until(lambda d: d.find_element(By.XPATH, "//div[@id='rollover-preview']//table[caption='План перевода']"))
        assert "5А → 6А" in plan.text, plan.text
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", plan)
        phone.save_screenshot(os.path.join(OUTPUT, "admin-rollover-phone.png"))
        phone.find_element(By.ID, "rollover-apply").click()
        wait(phone).until(EC.alert_is_present()).accept()
        wait(phone).until(lambda d: "Школа переведена в новый учебный год" in d.find_element(By.ID, "view").text)
        wait(phone).until(lambda d: d.find_element(By.XPATH, "//ul[@id='tree']//button[contains(., '6А')]"))

        # The school's settings: quiet hours from 22:00 to 06:30 for pupils and teachers too, and erased people's
        # messages deleted; both read back from the server as saved.
        wait(phone).until(lambda d: d.find_element(By.ID, "quiet-save"))
        settings = phone.find_element(By.CSS_SELECTOR, "div[aria-label='Часы тишины']")
        for name, value in {"from": "22:00", "to": "06:30"}.items():
            phone.execute_script("arguments[0].value = arguments[1]", settings.find_element(By.NAME, name), value)
        teachers = settings.find_element(By.NAME, "teacher")
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", teachers)
        teachers.click()
        phone.find_element(By.ID, "quiet-save").click()
        wait(phone).until(lambda d: d.find_element(By.ID, "quiet-status").text == "Сохранено")
        phone.find_element(By.NAME, "deleteMessages").click()
        phone.find_element(By.ID, "erasure-save").click()
        wait(phone).until(lambda d: d.find_element(By.ID, "erasure-status").text == "Сохранено")
        phone.save_screenshot(os.path.join(OUTPUT, "admin-settings-phone.png"))
        saved = phone.execute_async_script("""const done = arguments[arguments.length - 1], school = state.selected.data.id;
            Promise.all([Session.api(`/v1/schools/${school}/quiet-hours`), Session.api(`/v1/schools/${school}/erasure`)])
              .then(done, (error) => done(error.message))""")
        assert saved[0] == {"from": "22:00", "to": "06:30", "applies": ["guardian", "student", "teacher"]}, saved
        assert saved[1]["deleteMessages"] is True, saved

        # Another school's pages are refused to this school's admin.
        refused = phone.execute_async_script("""const done = arguments[arguments.length - 1];
            Session.api(`/v1/schools/${arguments[0]}/staff`).then(() => done("allowed"), (error) => done(error.code))""", other_school["id"])
        assert refused == "forbidden", refused

        # The ministry's dashboard: twelve weeks of region 55 made by demo-data, drawn as lines.
        sign_in(desk, ministry)
        desk.find_element(By.ID, "tab-rating").click()
        wait(desk).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.trend polyline"))
        points = desk.find_elements(By.CSS_SELECTOR, "svg.trend polyline")[0].get_attribute("points").split(" ")
        assert len(points) == 12, points  # region 55: twelve weeks; the demo region (99) began this week
        desk.save_screenshot(os.path.join(OUTPUT, "admin-dashboard.png"))
        print("admin console browser test passed; screenshots in", OUTPUT)
    except Exception:
        save_failure({f"admin-{name}": driver for name, driver in drivers.items()})
        raise
    finally:
        for driver in drivers.values():
            driver.quit()


if __name__ == "__main__":
    main()
