"""The playground in headless Chromium (Selenium + Debian's chromedriver), run by
ipe-wasm/tests/wasm.rs, which serves the page and sets:
  IPE_PLAYGROUND_URL    the page (http://127.0.0.1:PORT/playground/)
  IPE_SCREENSHOTS       where each step's PNG goes
  IPE_CHROMIUM_PROFILE  a fresh --user-data-dir
Steps: load (the seed example compiles and decides), type a policy with a typo (the underline
and the message appear), fix it (they go), evaluate a request, read the decision; then the share
link restores the policy and request in a new page load.
"""

import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["IPE_PLAYGROUND_URL"]
SHOTS = os.environ["IPE_SCREENSHOTS"]
PROFILE = os.environ["IPE_CHROMIUM_PROFILE"]

POLICY_WITH_TYPO = """schema {
  user.role: string
  action: string
}

default allow

policy AdminOnlyDelete:
  "Only admins delete"
  triggers when action == "delete"
  requires user.rol == "admin"
"""
POLICY_FIXED = POLICY_WITH_TYPO.replace("user.rol ==", "user.role ==")
REQUEST = '{"action": "delete", "user": {"role": "intern"}}'


def step(driver, name):
    path = os.path.join(SHOTS, f"{name}.png")
    driver.save_screenshot(path)
    print(f"screenshot {path}")


def text_content(driver, element_id):
    """The element's text, read in one script call (never a stale element reference)."""
    return driver.execute_script("return document.getElementById(arguments[0]).textContent", element_id)


def stable(driver, read):
    """`read(driver)`, retried while the page replaces an element between finding and reading it
    (the panels re-render as the page re-checks and re-evaluates; seen in CI under load)."""
    for _ in range(200):
        try:
            return read(driver)
        except StaleElementReferenceException:
            time.sleep(0.05)
    return read(driver)


def badge_is(wait, text):
    """Waits until the decision badge exists and reads `text`; returns True."""
    return wait.until(
        lambda d: d.find_elements(By.ID, "decision-badge")
        and d.find_element(By.ID, "decision-badge").text == text
    )


def set_text(driver, element_id, text):
    """Replaces a textarea's text as typing would (an `input` event), then types one more
    character and deletes it for real keystrokes through WebDriver."""
    el = driver.find_element(By.ID, element_id)
    el.clear()
    el.send_keys(text)


def main():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        f"--user-data-dir={PROFILE}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    # The page re-renders its panels as it re-checks and re-evaluates: an element found a moment
    # ago may be replaced before it is read (seen once in CI under load), so waits retry then.
    wait = WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,))
    try:
        driver.get(URL)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
        wait.until(lambda d: d.find_elements(By.ID, "decision-badge"))
        badge = stable(driver, lambda d: d.find_element(By.ID, "decision-badge").text)
        assert badge in ("ALLOW", "DENY"), badge
        step(driver, "1-loaded")

        # A typo: `user.rol` is not in the schema.
        set_text(driver, "policy", POLICY_WITH_TYPO)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#policy-backdrop mark"))
        marked = stable(
            driver,
            lambda d: d.find_element(By.CSS_SELECTOR, "#policy-backdrop mark").get_attribute("textContent"),
        )
        assert marked == "user.rol", marked
        message = stable(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#diagnostics .message").text)
        where = stable(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#diagnostics .where").text)
        assert "user.rol" in message, message
        assert where == "11:12", where
        # The decision of the previous policy is gone.
        assert not driver.find_elements(By.ID, "decision-badge")
        style = driver.execute_script(
            "return getComputedStyle(document.querySelector('#policy-backdrop mark')).textDecorationLine"
        )
        assert "underline" in style, style
        print(f"underlined `user.rol`: {where} {message}")
        step(driver, "2-typo")

        # Fixed: the underline and the message go away.
        set_text(driver, "policy", POLICY_FIXED)
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#policy-backdrop mark"))
        wait.until(lambda d: "no errors" in d.find_element(By.ID, "check-summary").text)
        assert not driver.find_elements(By.CSS_SELECTOR, "#diagnostics li")
        step(driver, "3-fixed")

        # Evaluate a request and read the decision.
        set_text(driver, "request", REQUEST)
        driver.find_element(By.ID, "evaluate").click()
        wait.until(
            lambda d: text_content(d, "decision-json")
            and json.loads(text_content(d, "decision-json"))["matched"] == ["AdminOnlyDelete"]
        )
        decision = json.loads(text_content(driver, "decision-json"))
        assert decision["decision"] == "deny", decision
        assert decision["violations"][0]["policy"] == "AdminOnlyDelete", decision
        assert decision["violations"][0]["intent"] == "Only admins delete", decision
        assert badge_is(wait, "DENY")
        shown = stable(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".card.violation .reason").text)
        assert shown == decision["violations"][0]["reason"], shown
        print(f"decision: {json.dumps(decision)}")
        step(driver, "4-decision")

        # The share link holds the policy and the request.
        driver.find_element(By.ID, "share").click()
        wait.until(lambda d: "#v1=" in d.current_url)
        link = driver.current_url
        driver.get("about:blank")
        driver.get(link)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
        assert stable(driver, lambda d: d.find_element(By.ID, "policy").get_attribute("value")) == POLICY_FIXED
        assert stable(driver, lambda d: d.find_element(By.ID, "request").get_attribute("value")) == REQUEST
        assert badge_is(wait, "DENY")
        step(driver, "5-shared")

        # The other examples load and compile.
        for name in ("k8s-admission", "firewall"):
            driver.execute_script(
                "const s = document.getElementById('example'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('change'));",
                name,
            )
            wait.until(lambda d: "no errors" in d.find_element(By.ID, "check-summary").text
                       and d.find_element(By.ID, "policy").get_attribute("value").count("# ----") > 1
                       and d.find_elements(By.ID, "decision-badge")
                       and "AdminOnlyDelete" not in d.find_element(By.ID, "matched").text)
            step(driver, f"6-{name}")
        print("playground: 6 steps passed")
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"assertion failed: {e}", file=sys.stderr)
        raise
