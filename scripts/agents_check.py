#!/usr/bin/env python3
"""Agent frameworks against an OpenAI-compatible server: tool calling and structured output.

    python scripts/agents_check.py http://127.0.0.1:PORT/v1 API_KEY MODEL_NAME

Runs every check, printing `PASS name` or `FAIL name: reason`, then `N passed, M failed`; exits 1
if any failed. Run by scripts/test_agents.sh (which installs scripts/requirements-agents.txt in
.venv-agents and starts `samtal serve`, or llama-server for comparison). The model behind the
server may be tiny, so prompts are direct and the checks look at structure, not wording.
"""
import asyncio
import copy
import json
import signal
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")

import jsonschema  # noqa: E402
import openai  # noqa: E402

base, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
TIMEOUT = 90  # seconds per HTTP request
CHECK_TIMEOUT = 240  # seconds per check, all its requests together
RESULT = "18 degrees and sunny"
client = openai.OpenAI(base_url=base, api_key=key, timeout=TIMEOUT, max_retries=0)

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                   "required": ["city"]}}}
TIME_TOOL = {"type": "function", "function": {
    "name": "get_time",
    "description": "Get the current local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                   "required": ["city"]}}}
SYSTEM = {"role": "system", "content": "You are a helpful assistant. Use the tools when they help."}
ASK = [SYSTEM, {"role": "user", "content": "What is the weather in Paris?"}]
TRIP = [SYSTEM, {"role": "user", "content": "Hi! I am going to Paris tomorrow."}]
PERSON_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                 "required": ["name", "age"], "additionalProperties": False}
PERSON_ASK = [{"role": "user", "content": "Alice is 30 years old. Give her name and age as JSON."}]

calls = []  # cities that the framework tools below were called with


def weather(city):
    calls.append(city)
    return f"{RESULT} in {city}"


class Fail(Exception):
    pass


class CheckTimeout(BaseException):
    """Raised by SIGALRM; a BaseException, so that no client wraps it in an error of its own."""


def expect(cond, detail):
    if not cond:
        raise Fail(detail)


def short(obj, n=300):
    s = repr(obj)
    return s if len(s) <= n else s[:n] + "..."


def chat(**kw):
    kw.setdefault("temperature", 0)
    kw.setdefault("max_tokens", 64)
    return client.chat.completions.create(model=model, **kw)


def expect_weather_call(tc, want_paris=True):
    """One OpenAI tool call object: get_weather with a JSON-string argument object naming the city."""
    expect(tc.type == "function", f"tool call type {tc.type!r}")
    expect(isinstance(tc.id, str) and tc.id.startswith("call_"), f"tool call id {tc.id!r} does not start with call_")
    expect(tc.function.name == "get_weather", f"tool name {tc.function.name!r}")
    expect(isinstance(tc.function.arguments, str), f"arguments are not a JSON string: {short(tc.function.arguments)}")
    try:
        args = json.loads(tc.function.arguments)
    except ValueError:
        raise Fail(f"arguments are not JSON: {tc.function.arguments!r}")
    expect(isinstance(args, dict) and isinstance(args.get("city"), str), f"arguments {args!r} have no city string")
    if want_paris:
        expect("paris" in args["city"].lower(), f"city {args['city']!r} is not Paris")


def expect_tool_calls(r, name="get_weather"):
    ch = r.choices[0]
    tcs = ch.message.tool_calls
    expect(tcs, f"no tool_calls: content={ch.message.content!r} finish_reason={ch.finish_reason!r}")
    expect(ch.finish_reason == "tool_calls", f"finish_reason {ch.finish_reason!r}, want 'tool_calls'")
    expect(ch.message.content is None, f"content {ch.message.content!r}, want None")
    expect(tcs[0].function.name == name, f"tool name {tcs[0].function.name!r}, want {name!r}")
    return tcs


# --- the openai package --------------------------------------------------------------------------

def openai_auto():
    expect_weather_call(expect_tool_calls(chat(messages=ASK, tools=[WEATHER_TOOL], tool_choice="auto"))[0])


def openai_required():
    # The user asks nothing that needs a tool; "required" must force a call anyway.
    tcs = expect_tool_calls(chat(messages=TRIP, tools=[WEATHER_TOOL], tool_choice="required"))
    expect_weather_call(tcs[0], want_paris=False)


def openai_named():
    # Two tools, and the question fits the other one: the named choice must win.
    choice = {"type": "function", "function": {"name": "get_weather"}}
    msgs = [SYSTEM, {"role": "user", "content": "What time is it in Paris?"}]
    tcs = expect_tool_calls(chat(messages=msgs, tools=[TIME_TOOL, WEATHER_TOOL], tool_choice=choice))
    expect(len(tcs) == 1, f"{len(tcs)} tool calls, want 1")
    expect_weather_call(tcs[0], want_paris=False)


def openai_none():
    ch = chat(messages=ASK, tools=[WEATHER_TOOL], tool_choice="none").choices[0]
    expect(not ch.message.tool_calls, f"tool_calls {short(ch.message.tool_calls)} with tool_choice none")
    expect(isinstance(ch.message.content, str) and ch.message.content.strip(), f"content {ch.message.content!r}")
    expect(ch.finish_reason in ("stop", "length"), f"finish_reason {ch.finish_reason!r}")


def openai_stream():
    # Assembled as the openai docs show: the first delta of each index carries id, type and name,
    # the later ones only argument fragments, which are concatenated.
    calls_by_index, finish, content = {}, None, []
    stream = chat(messages=ASK, tools=[WEATHER_TOOL], tool_choice="auto", stream=True,
                  stream_options={"include_usage": True})
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        if not chunk.choices:
            continue
        ch = chunk.choices[0]
        finish = ch.finish_reason or finish
        if ch.delta.content:
            content.append(ch.delta.content)
        for d in ch.delta.tool_calls or []:
            expect(isinstance(d.index, int), f"tool call delta without index: {short(d)}")
            if d.index not in calls_by_index:
                expect(d.id and d.function and d.function.name, f"first delta lacks id or name: {short(d)}")
                calls_by_index[d.index] = copy.deepcopy(d)
                calls_by_index[d.index].function.arguments = d.function.arguments or ""
            else:
                expect(not d.id and not (d.function and d.function.name),
                       f"id or name repeated in a later delta: {short(d)}")
                calls_by_index[d.index].function.arguments += (d.function.arguments or "") if d.function else ""
    expect(calls_by_index, f"no tool call deltas; content {''.join(content)!r}")
    expect(not "".join(content).strip(), f"content deltas {''.join(content)!r} alongside the tool call")
    expect(finish == "tool_calls", f"finish_reason {finish!r}, want 'tool_calls'")
    expect(sorted(calls_by_index) == list(range(len(calls_by_index))), f"indexes {sorted(calls_by_index)}")
    expect_weather_call(calls_by_index[0])
    expect(usage is not None, "no usage chunk with stream_options.include_usage")


def openai_round_trip():
    msgs = ASK + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_w1", "type": "function", "function": {
            "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]},
        {"role": "tool", "tool_call_id": "call_w1", "content": RESULT},
    ]
    ch = chat(messages=msgs, tools=[WEATHER_TOOL], max_tokens=48).choices[0]
    expect(not ch.message.tool_calls, f"called a tool again: {short(ch.message.tool_calls)}")
    expect(isinstance(ch.message.content, str) and "18" in ch.message.content,
           f"answer does not mention 18: {ch.message.content!r}")


def openai_json_object():
    msgs = [{"role": "user", "content": "Describe a person as a JSON object with the keys name and age."}]
    content = chat(messages=msgs, response_format={"type": "json_object"}, max_tokens=128).choices[0].message.content
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        raise Fail(f"content is not JSON: {content!r}")
    expect(isinstance(value, dict), f"content is JSON but not an object: {content!r}")


def openai_json_schema():
    rf = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": PERSON_SCHEMA}}
    content = chat(messages=PERSON_ASK, response_format=rf, max_tokens=128).choices[0].message.content
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        raise Fail(f"content is not JSON: {content!r}")
    try:
        jsonschema.validate(value, PERSON_SCHEMA)
    except jsonschema.ValidationError as e:
        raise Fail(f"{content!r} does not match the schema: {e.message}")


# --- LangChain and LangGraph ---------------------------------------------------------------------

def langchain_llm():
    from langchain_openai import ChatOpenAI
    return ChatOpenAI(base_url=base, api_key=key, model=model, temperature=0, max_tokens=128,
                      timeout=TIMEOUT, max_retries=0)


def langchain_tool():
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        return weather(city)
    return get_weather


def langchain_bind_tools():
    msg = langchain_llm().bind_tools([langchain_tool()]).invoke("What is the weather in Paris?")
    expect(msg.tool_calls, f"no tool_calls: content={msg.content!r} invalid={msg.invalid_tool_calls!r}")
    tc = msg.tool_calls[0]
    expect(tc["name"] == "get_weather", f"tool name {tc['name']!r}")
    expect("paris" in str(tc["args"].get("city", "")).lower(), f"args {tc['args']!r}")
    expect(str(tc.get("id", "")).startswith("call_"), f"id {tc.get('id')!r}")


def langchain_stream_tools():
    chunks = None
    for c in langchain_llm().bind_tools([langchain_tool()]).stream("What is the weather in Paris?"):
        chunks = c if chunks is None else chunks + c
    expect(chunks is not None and chunks.tool_calls, f"no tool_calls after merging the stream: {short(chunks)}")
    expect(len(chunks.tool_calls) == 1, f"{len(chunks.tool_calls)} tool calls: {chunks.tool_calls!r}")
    tc = chunks.tool_calls[0]
    expect(tc["name"] == "get_weather" and "paris" in str(tc["args"].get("city", "")).lower(), f"{tc!r}")


def langchain_structured():
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    p = langchain_llm().with_structured_output(Person, method="json_schema").invoke(PERSON_ASK[0]["content"])
    expect(isinstance(p, Person), f"got {short(p)}")


def langchain_structured_dict():
    schema = {"title": "person", "description": "A person.", **PERSON_SCHEMA}
    value = langchain_llm().with_structured_output(schema, method="json_schema", strict=True).invoke(
        PERSON_ASK[0]["content"])
    try:
        jsonschema.validate(value, PERSON_SCHEMA)
    except jsonschema.ValidationError as e:
        raise Fail(f"{value!r} does not match the schema: {e.message}")


def langgraph_react():
    from langchain_core.messages import AIMessage, ToolMessage
    from langgraph.prebuilt import create_react_agent
    agent = create_react_agent(langchain_llm(), [langchain_tool()])
    out = agent.invoke({"messages": [("user", "What is the weather in Paris?")]}, {"recursion_limit": 6})
    msgs = out["messages"]
    tool_msgs = [m for m in msgs if isinstance(m, ToolMessage)]
    expect(tool_msgs, f"no ToolMessage in {short(msgs, 600)}")
    expect(RESULT in str(tool_msgs[0].content), f"tool message {tool_msgs[0].content!r}")
    last = msgs[-1]
    expect(isinstance(last, AIMessage) and not last.tool_calls, f"last message {short(last)}")
    expect("18" in str(last.content), f"final answer does not mention 18: {last.content!r}")


# --- smolagents ----------------------------------------------------------------------------------

def smolagents_tool_calling():
    from smolagents import LogLevel, OpenAIServerModel, ToolCallingAgent, tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city.

        Args:
            city: The city name.
        """
        return weather(city)

    class Model(OpenAIServerModel):
        text_fallbacks = 0

        def parse_tool_calls(self, message):
            # smolagents falls back to reading a tool call out of the text when the response has
            # no tool_calls; count it so that a server which does not parse tool calls fails.
            if not message.tool_calls:
                Model.text_fallbacks += 1
            return super().parse_tool_calls(message)

    llm = Model(model_id=model, api_base=base, api_key=key, temperature=0, max_tokens=128, retry=False,
                client_kwargs={"timeout": TIMEOUT, "max_retries": 0})
    agent = ToolCallingAgent(tools=[get_weather], model=llm, max_steps=3, verbosity_level=LogLevel.OFF)
    before = len(calls)
    result = agent.run("What is the weather in Paris?")
    expect(Model.text_fallbacks == 0, "the server returned a response without tool_calls; smolagents parsed text")
    expect(len(calls) > before, f"get_weather was not called; result {result!r}")
    expect("18" in str(result), f"result does not mention 18: {result!r}")


# --- LlamaIndex ----------------------------------------------------------------------------------

def llamaindex_function_agent():
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai_like import OpenAILike

    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        return weather(city)

    llm = OpenAILike(model=model, api_base=base, api_key=key, is_chat_model=True, is_function_calling_model=True,
                     temperature=0, max_tokens=128, timeout=TIMEOUT, max_retries=0)
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm,
                          system_prompt="You are a helpful assistant. Use the tools when they help.")

    async def go():
        handler = agent.run(user_msg="What is the weather in Paris?", max_iterations=3)
        results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
        return results, await handler

    before = len(calls)
    results, resp = asyncio.run(go())
    expect(results and results[0].tool_name == "get_weather", f"no get_weather ToolCallResult: {short(results)}")
    expect(not results[0].tool_output.is_error, f"tool errored: {results[0].tool_output.content!r}")
    expect(len(calls) > before, "get_weather was not called")
    expect("18" in str(resp.response.content), f"response does not mention 18: {resp.response.content!r}")


# --- Haystack ------------------------------------------------------------------------------------

def haystack_parts():
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.tools import Tool
    from haystack.utils import Secret
    tool = Tool(name="get_weather", description="Get the current weather in a city.",
                parameters=WEATHER_TOOL["function"]["parameters"], function=weather)
    gen = OpenAIChatGenerator(api_key=Secret.from_token(key), model=model, api_base_url=base, tools=[tool],
                              generation_kwargs={"temperature": 0, "max_tokens": 128}, timeout=TIMEOUT, max_retries=0)
    return gen, tool


def haystack_generator():
    from haystack.dataclasses import ChatMessage
    gen, _ = haystack_parts()
    replies = gen.run(messages=[ChatMessage.from_user("What is the weather in Paris?")])["replies"]
    expect(replies and replies[0].tool_calls, f"no tool_calls in {short(replies)}")
    tc = replies[0].tool_calls[0]
    expect(tc.tool_name == "get_weather", f"tool name {tc.tool_name!r}")
    expect("paris" in str(tc.arguments.get("city", "")).lower(), f"arguments {tc.arguments!r}")
    expect(str(tc.id).startswith("call_"), f"id {tc.id!r}")
    finish = replies[0].meta.get("finish_reason")
    expect(finish == "tool_calls", f"finish_reason {finish!r}")


def haystack_agent():
    # Haystack 3 folded ToolInvoker into Agent: generator -> tool -> generator until a text reply.
    from haystack.components.agents import Agent
    from haystack.dataclasses import ChatMessage
    gen, tool = haystack_parts()
    agent = Agent(chat_generator=gen, tools=[tool], max_agent_steps=3, raise_on_tool_invocation_failure=True)
    agent.warm_up()
    before = len(calls)
    msgs = agent.run(messages=[ChatMessage.from_user("What is the weather in Paris?")])["messages"]
    results = [m.tool_call_result for m in msgs if m.tool_call_result is not None]
    expect(results, f"no tool result message in {short(msgs, 600)}")
    expect(RESULT in str(results[0].result) and not results[0].error, f"tool result {results[0]!r}")
    expect(len(calls) > before, "get_weather was not called")
    expect(msgs[-1].text and "18" in msgs[-1].text, f"final reply does not mention 18: {short(msgs[-1])}")


CHECKS = [
    ("openai tool_choice auto", openai_auto),
    ("openai tool_choice required", openai_required),
    ("openai tool_choice named", openai_named),
    ("openai tool_choice none", openai_none),
    ("openai streamed tool call", openai_stream),
    ("openai tool result round trip", openai_round_trip),
    ("openai response_format json_object", openai_json_object),
    ("openai response_format json_schema", openai_json_schema),
    ("langchain bind_tools", langchain_bind_tools),
    ("langchain bind_tools stream", langchain_stream_tools),
    ("langchain with_structured_output pydantic", langchain_structured),
    ("langchain with_structured_output json schema", langchain_structured_dict),
    ("langgraph create_react_agent", langgraph_react),
    ("smolagents ToolCallingAgent", smolagents_tool_calling),
    ("llamaindex FunctionAgent", llamaindex_function_agent),
    ("haystack OpenAIChatGenerator tools", haystack_generator),
    ("haystack Agent (runs the tool)", haystack_agent),
]


def on_alarm(signum, frame):
    raise CheckTimeout(f"the check took over {CHECK_TIMEOUT}s")


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = 0
    for name, fn in CHECKS:
        signal.alarm(CHECK_TIMEOUT)
        try:
            fn()
        except (Fail, CheckTimeout) as e:
            reason = str(e)
        except Exception as e:  # a framework raising is a failure of that check, not of the run
            where = " > ".join(f"{f.name}:{f.lineno}" for f in traceback.extract_tb(e.__traceback__)
                               if f.filename == __file__ and f.name != "main")
            reason = f"{type(e).__name__} at {where}: {e}".replace("\n", " ")[:600]
        else:
            reason = None
        finally:
            signal.alarm(0)
        if reason is None:
            passed += 1
            print(f"PASS {name}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name}: {reason}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
