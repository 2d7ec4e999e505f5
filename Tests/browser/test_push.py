"""Web Push in headless Chromium (issue 18): the chat page registers its service worker at /sw.js, asking for
notifications goes as far as the browser allows (headless Chromium has no push service to subscribe with, so it
refuses and the page says why), and a push message delivered to the worker through the DevTools protocol shows a
notification with the chat, the sender and the text. The server's side of delivery is tested against a local push
service (WebPushTests). Run through Tests/browser/run.sh (ZVONOK_SERVER_LOG, ZVONOK_BROWSER_OUTPUT, ZVONOK_URL).
"""

import json
import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from test_web_client import OUTPUT, browser, save_failure, sign_in_links, wait

URL = os.environ["ZVONOK_URL"]


def run_async(driver, script):
    """Runs `script`, whose promise's value is returned; `done` is the callback."""
    return driver.execute_async_script("const done = arguments[arguments.length - 1];" + script)


def deliver_push(driver, payload):
    """Delivers `payload` to the page's service worker through the DevTools protocol. The protocol wants the
    registration's id, which only its events tell, and drops a message to an id that does not exist; a fresh profile
    has one registration, numbered from 0, so the message goes to the first ten ids and one of them takes it."""
    driver.execute_cdp_cmd("ServiceWorker.enable", {})
    for registration in range(10):
        driver.execute_cdp_cmd("ServiceWorker.deliverPushMessage",
                               {"origin": URL, "registrationId": str(registration), "data": json.dumps(payload)})


def notifications(driver):
    return run_async(driver, "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                             ".then((shown) => done(shown.map((n) => [n.title, n.body, n.tag])));")


def main():
    links = sign_in_links(os.environ["ZVONOK_SERVER_LOG"])
    guardian_link = next(link for (role, name), link in links.items() if role == "родитель" and name != "Наталья Игоревна Волкова")
    driver = browser(1200, 800)
    try:
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": URL, "permissions": ["notifications"]})
        driver.get(guardian_link)
        wait(driver).until(EC.visibility_of_element_located((By.ID, "app")))
        scope = run_async(driver, "navigator.serviceWorker.ready.then((r) => done(r.scope));")
        assert scope == URL + "/", scope

        deliver_push(driver, {"chat": "c7", "title": "5А родители", "from": "Анна Сергеевна Иванова", "count": 2, "seq": 12,
                              "text": "Собрание в четверг в 18:00"})
        deadline = time.monotonic() + 10
        shown = []
        while time.monotonic() < deadline and not shown:
            shown = notifications(driver)
            time.sleep(0.2)
        assert shown == [["5А родители (2)", "Анна Сергеевна Иванова: Собрание в четверг в 18:00", "c7"]], shown
        driver.find_element(By.ID, "push-enable").click()
        finished = ("Уведомления включены", "Не удалось включить уведомления")
        status = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "push-status").text.startswith(finished)
                                                 and d.find_element(By.ID, "push-status").text)
        print(f"subscribing in headless Chromium: {status}")

        driver.save_screenshot(os.path.join(OUTPUT, "push.png"))
        print("push: the service worker is registered and a delivered push message shows its notification")
    except Exception:
        save_failure({"push": driver})
        raise
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
