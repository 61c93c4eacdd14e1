"""samtal ("conversation" in Swedish): a local-first chatbot engine, from Python.

    >>> import samtal
    >>> m = samtal.Model()                       # the default model, fetched on first use
    >>> m.generate("The capital of France is", max_new_tokens=8, temperature=0)
    >>> chat = samtal.Chat(m, persona="You are a helpful assistant.")
    >>> chat.send("What is the capital of France?")
    >>> m.create_chat_completion([{"role": "user", "content": "Hi"}])   # OpenAI's shape

Models are what `samtal --model` takes: a GGUF file, a Hugging Face folder, a known name
("smollm2", "qwen2.5-coder-0.5b") or a hub model ("hf.co/OWNER/REPO:QUANT"). Generation
settings go by the names of samtal's settings table (`temperature`, `top_k`, `top_p`, `seed`,
`max_new_tokens` or `max_tokens`, `stop`, `repetition_penalty`, ...), checked as on every other
face. Generation releases the GIL; Ctrl-C stops it at the next token (KeyboardInterrupt).
Errors are `SamtalError` (or `ValueError` for a bad request), with the CLI's messages.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Union

from ._samtal import Chat as _Chat
from ._samtal import Model as _Model
from ._samtal import SamtalError
from ._samtal import guard_check as _guard_check

__all__ = ["Model", "Chat", "SamtalError", "guard"]
__version__ = "0.1.0"


def _settings(named: Dict[str, Any], extra: Dict[str, Any]) -> str:
    out = {k: v for k, v in named.items() if v is not None}
    out.update(extra)
    return json.dumps(out)


def _check_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")


class Model:
    """A loaded model (see the module's documentation for what `path_or_name` may be)."""

    def __init__(
        self,
        path_or_name: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        dtype: str = "auto",
        precision: str = "q8",
        threads: Optional[int] = None,
    ) -> None:
        if path_or_name is not None:
            if not isinstance(path_or_name, (str, os.PathLike)):
                raise TypeError(
                    f"path_or_name must be a str or a path, not {type(path_or_name).__name__}"
                )
            path_or_name = os.fspath(path_or_name)
        self._m = _Model(path_or_name, dtype=dtype, precision=precision, threads=threads)
        #: The summary of the last `generate` (finish reason, token counts, timings).
        self.last: Optional[Dict[str, Any]] = None

    @property
    def path(self) -> str:
        return self._m.path

    @property
    def n_ctx(self) -> int:
        return self._m.n_ctx

    @property
    def eog_ids(self) -> List[int]:
        """The end-of-generation token ids."""
        return self._m.eog_ids

    def tokenize(self, text: str, *, add_special: bool = True, special: bool = False) -> List[int]:
        _check_str("text", text)
        return self._m.tokenize(text, add_special=add_special, special=special)

    def detokenize(self, ids: List[int], *, skip_special: bool = False) -> str:
        return self._m.detokenize(list(ids), skip_special=skip_special)

    def perplexity(self, text: str) -> float:
        _check_str("text", text)
        return self._m.perplexity(text)

    def generate(
        self,
        prompt: str,
        *,
        stream: bool = False,
        max_new_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        **settings: Any,
    ) -> Union[str, Iterator[str]]:
        """The continuation of `prompt` (raw text, no chat template), or with `stream=True` an
        iterator of its pieces. Greedy with `temperature=0`; seeded sampling with `seed`."""
        _check_str("prompt", prompt)
        if isinstance(stop, str):
            stop = [stop]
        named = dict(max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                     top_p=top_p, seed=seed, stop=stop)
        s = self._m._generate(prompt, _settings(named, settings))
        if stream:
            return _pieces(s, self)
        text = "".join(s)
        self.last = json.loads(s.summary() or "null")
        return text

    def create_chat_completion(
        self,
        messages: List[Dict[str, Any]],
        *,
        stream: bool = False,
        tools: Optional[List[Dict[str, Any]]] = None,
        tool_choice: Optional[Union[str, Dict[str, Any]]] = None,
        response_format: Optional[Dict[str, Any]] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        **settings: Any,
    ) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]:
        """An OpenAI chat completion, as llama-cpp-python's: the response dict, or with
        `stream=True` an iterator of chunk dicts. Answered by `samtal serve`'s own route, in
        process: the same tools, tool_choice, response_format and checks."""
        if not isinstance(messages, list):
            raise TypeError(f"messages must be a list of dicts, not {type(messages).__name__}")
        named = dict(tools=tools, tool_choice=tool_choice, response_format=response_format,
                     max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed,
                     stop=stop)
        request = {k: v for k, v in named.items() if v is not None}
        request.update(settings)
        request["messages"] = messages
        request["stream"] = bool(stream)
        status, s = self._m._chat_completion(json.dumps(request))
        if not stream or status != 200:
            body = "".join(s)
            data = json.loads(body) if body else {}
            if status != 200:
                _raise(status, data)
            return data
        return _events(s)

    def chat(self, persona: Optional[str] = None, format: str = "auto", **settings: Any) -> "Chat":
        return Chat(self, persona=persona, format=format, **settings)


def _pieces(s: Any, owner: Any) -> Iterator[str]:
    """A stream's text pieces; when it ends (or is abandoned) its summary becomes `owner.last`
    and an unfinished generation is cancelled."""
    try:
        yield from s
    finally:
        s.cancel()
        owner.last = json.loads(s.summary() or "null")


def _raise(status: int, data: Dict[str, Any]) -> None:
    message = data.get("error", {}).get("message") or f"status {status}"
    if 400 <= status < 500:
        raise ValueError(message)
    raise SamtalError(message)


def _events(s: Any) -> Iterator[Dict[str, Any]]:
    """Server-sent events to chunk dicts."""
    buf = ""
    try:
        for piece in s:
            buf += piece
            while "\n\n" in buf:
                event, buf = buf.split("\n\n", 1)
                for line in event.splitlines():
                    if not line.startswith("data: "):
                        continue
                    data = line[len("data: "):]
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if "error" in chunk:
                        raise SamtalError(chunk["error"].get("message", "the stream failed"))
                    yield chunk
    finally:
        s.cancel()


class Chat:
    """A conversation with a persona and history: the notebook's `Computer` class, done right.

    `format="template"` uses the model's chat template, `"transcript"` the notebook's
    `Me:` / `Computer:` lines (labels set by `user_label` and `bot_label`), `"auto"` the template
    when the model has one. Each message is checked by the guard first."""

    def __init__(
        self,
        model: Model,
        persona: Optional[str] = None,
        format: str = "auto",
        *,
        user_label: str = "Me",
        bot_label: str = "Computer",
        **settings: Any,
    ) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a samtal.Model, not {type(model).__name__}")
        if persona is not None:
            _check_str("persona", persona)
        self.model = model
        self._c = model._m._chat(persona=persona, format=format, user_label=user_label,
                                 bot_label=bot_label, settings_json=json.dumps(settings))
        #: The last reply's summary: finish reason, token counts, timings, the guard's verdict.
        self.last: Optional[Dict[str, Any]] = None

    def send(self, text: str, *, stream: bool = False) -> Union[str, Iterator[str]]:
        """The answer to `text`, which joins the history (or with `stream=True` its pieces)."""
        _check_str("text", text)
        s = self._c._send(text)
        if stream:
            return _pieces(s, self)
        "".join(s)
        self.last = json.loads(s.summary() or "null")
        return self.last["text"] if self.last else ""

    @property
    def history(self) -> List[Dict[str, Any]]:
        """The conversation as OpenAI messages: the persona, then the turns."""
        return json.loads(self._c._messages())

    def undo(self) -> bool:
        return self._c.undo()

    def reset(self) -> None:
        self._c.reset()


def guard(text: str) -> Dict[str, Any]:
    """The prompt-injection guard's verdict on `text`: {"verdict": "allow" | "flag" | "block",
    "score", "reasons"}, as a chat applies it."""
    _check_str("text", text)
    return json.loads(_guard_check(text))
