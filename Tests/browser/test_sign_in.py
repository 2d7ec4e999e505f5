"""Sign-in through the state's identity provider in headless Chromium (issue 22), against oidc_provider.py.

A demo parent types their invite code beside «Войти через Госуслуги», signs in at the provider and lands in their
chats; signed out, they sign in again through the provider without the code. Someone the school did not list is told
so. Run through Tests/browser/run.sh (ZVONOK_SERVER_LOG, ZVONOK_BROWSER_OUTPUT, ZVONOK_URL).
"""

import os
import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from test_web_client import OUTPUT, browser, sign_in_links, wait

URL = os.environ["ZVONOK_URL"]
LABEL = "Войти через Госуслуги"


def through_provider(driver, subject, invite_code=""):
    """From the sign-in page: the invite code (if any), the provider's button, the provider's login page, back."""
    button = wait(driver).until(EC.visibility_of_element_located((By.ID, "provider-button")))
    assert button.text == LABEL, button.text
    if invite_code:
        driver.find_element(By.ID, "invite-code").send_keys(invite_code)
    button.click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "subject"))).send_keys(subject)
    driver.find_element(By.ID, "login").click()


def main():
    links = sign_in_links(os.environ["ZVONOK_SERVER_LOG"])
    parent_link = links[("родитель", "Наталья Игоревна Волкова")]
    invite_code = re.search(r"#invite=(\S+)", parent_link).group(1)
    driver = browser(1000, 800)
    try:
        driver.get(URL)
        through_provider(driver, "esia-volkova", invite_code)
        wait(driver).until(EC.visibility_of_element_located((By.ID, "app")))
        assert "Волкова" in driver.find_element(By.ID, "who-name").text
        assert "code=" not in driver.current_url and "state=" not in driver.current_url, driver.current_url
        driver.save_screenshot(os.path.join(OUTPUT, "sign-in-provider.png"))

        # Signed out of Zvonok, the linked account signs in again with no code.
        driver.find_element(By.ID, "sign-out").click()
        through_provider(driver, "esia-volkova")
        wait(driver).until(EC.visibility_of_element_located((By.ID, "app")))
        driver.find_element(By.ID, "sign-out").click()

        # Someone the school did not list.
        through_provider(driver, "esia-stranger")
        wait(driver).until(lambda d: "не внесла вас" in d.find_element(By.ID, "sign-in-error").text)
        not_listed = driver.find_element(By.ID, "sign-in-error").text
        assert driver.find_element(By.ID, "app").get_attribute("hidden") is not None, "not signed in"
        driver.save_screenshot(os.path.join(OUTPUT, "sign-in-not-listed.png"))

        # The provider's own refusal comes back as a plain sentence, and the query leaves the address bar.
        driver.get(URL + "?error=access_denied&error_description=Пользователь+отказался&state=whatever")
        wait(driver).until(lambda d: "Вход не состоялся: Пользователь отказался" in d.find_element(By.ID, "sign-in-error").text)
        assert "error=" not in driver.current_url, driver.current_url
        print("provider sign-in browser test passed:", not_listed)
    except Exception:
        driver.save_screenshot(os.path.join(OUTPUT, "failure-sign-in.png"))
        with open(os.path.join(OUTPUT, "failure-sign-in-console.txt"), "w", encoding="utf-8") as log:
            for entry in driver.get_log("browser"):
                log.write(f"{entry}\n")
        raise
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
