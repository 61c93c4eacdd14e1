#!/usr/bin/env python3
"""Real clients against `samtal serve`: the official `openai` package and LangChain's ChatOpenAI.

    python scripts/openai_clients_check.py http://127.0.0.1:PORT/v1 API_KEY

Run by scripts/test_openai_clients.sh (which installs the pinned packages and starts the server).
Exits non-zero on the first failed check.
"""
import sys

import openai
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key=key)
MSGS = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + (f": {detail}" if detail and not cond else ""))
    if not cond:
        sys.exit(1)


r = client.chat.completions.create(model="any", messages=MSGS, max_tokens=12)
check("chat completion", r.object == "chat.completion" and isinstance(r.choices[0].message.content, str)
      and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r)

parts = []
usage = None
for chunk in client.chat.completions.create(model="any", messages=MSGS, max_tokens=12, stream=True,
                                            stream_options={"include_usage": True}):
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
check("streamed chat completion", len(parts) > 0 and usage is not None, parts)

a = client.chat.completions.create(model="any", messages=MSGS, max_tokens=16, seed=42, temperature=0.9)
b = client.chat.completions.create(model="any", messages=MSGS, max_tokens=16, seed=42, temperature=0.9)
check("seeded requests repeat", a.choices[0].message.content == b.choices[0].message.content,
      (a.choices[0].message.content, b.choices[0].message.content))

full = client.completions.create(model="any", prompt="one two three", max_tokens=16, temperature=0).choices[0].text
stop = next((c for c in full[2:] if not c.isspace()), None)
if stop is not None:
    cut = client.completions.create(model="any", prompt="one two three", max_tokens=16, temperature=0, stop=[stop])
    check("stop string", stop not in cut.choices[0].text and full.startswith(cut.choices[0].text)
          and cut.choices[0].finish_reason == "stop", (full, cut.choices[0].text))

c = client.completions.create(model="any", prompt="Once upon a time", max_tokens=8)
check("completion", c.object == "text_completion" and isinstance(c.choices[0].text, str), c)

models = client.models.list()
check("models.list()", len(models.data) == 1 and models.data[0].object == "model", models)

try:
    openai.OpenAI(base_url=base, api_key="wrong").models.list()
    check("wrong key is refused", False)
except openai.AuthenticationError:
    check("wrong key is refused", True)

llm = ChatOpenAI(base_url=base, api_key=key, model="any", max_tokens=16, temperature=0)
history = [SystemMessage("You are terse."), HumanMessage("Hello, who are you?")]
first = llm.invoke(history)
history += [first, HumanMessage("And what can you do?")]
second = llm.invoke(history)
check("LangChain two-turn conversation", isinstance(first, AIMessage) and isinstance(second, AIMessage)
      and isinstance(second.content, str), (first, second))
print("all client checks passed")
