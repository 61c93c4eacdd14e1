#!/usr/bin/env python3
"""Drives the web page through chromedriver: type a message, send it, see a streamed answer.

    python3 scripts/web_page_check.py SERVER_URL DRIVER_URL SCREENSHOT.png
"""
import base64
import json
import sys
import time
import urllib.request

server, driver, shot = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(driver + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}").get("value")


for _ in range(100):
    try:
        call("GET", "/status")
        break
    except OSError:
        time.sleep(0.1)

args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800"]
session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}})
sid = session["sessionId"]
try:
    call("POST", f"/session/{sid}/url", {"url": server + "/"})
    el = lambda css: call("POST", f"/session/{sid}/element", {"using": "css selector", "value": css})
    key = next(iter(el("#input").values()))
    call("POST", f"/session/{sid}/element/{key}/value", {"text": "Hello, who are you?"})
    send = next(iter(el("#send").values()))
    call("POST", f"/session/{sid}/element/{send}/click", {})
    script = """
      const a = document.querySelectorAll('.assistant');
      const last = a[a.length - 1];
      return last ? [last.textContent, !!last.querySelector('.meta')] : ['', false];"""
    text, done = "", False
    for _ in range(300):
        text, done = call("POST", f"/session/{sid}/execute/sync", {"script": script, "args": []})
        if done:
            break
        time.sleep(0.1)
    png = base64.b64decode(call("GET", f"/session/{sid}/screenshot"))
    with open(shot, "wb") as f:
        f.write(png)
    print(f"answer on the page: {text!r}; screenshot: {shot} ({len(png)} bytes)")
    if not done or "tokens/s" not in text:
        print("FAIL: no finished, streamed answer on the page")
        sys.exit(1)
    print("ok   the page sent a message and showed the streamed answer")
finally:
    call("DELETE", f"/session/{sid}")
