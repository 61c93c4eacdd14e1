# Type stubs of the public API (the implementation is samtal/__init__.py).
import os
from typing import Any, Dict, Iterator, List, Optional, Union

from ._samtal import SamtalError as SamtalError

__version__: str

class Model:
    last: Optional[Dict[str, Any]]
    def __init__(
        self,
        path_or_name: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        dtype: str = "auto",
        precision: str = "q8",
        threads: Optional[int] = None,
    ) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def n_ctx(self) -> int: ...
    @property
    def eog_ids(self) -> List[int]: ...
    def tokenize(self, text: str, *, add_special: bool = True, special: bool = False) -> List[int]: ...
    def detokenize(self, ids: List[int], *, skip_special: bool = False) -> str: ...
    def perplexity(self, text: str) -> float: ...
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
    ) -> Union[str, Iterator[str]]: ...
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
    ) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]: ...
    def chat(self, persona: Optional[str] = None, format: str = "auto", **settings: Any) -> "Chat": ...

class Chat:
    model: Model
    last: Optional[Dict[str, Any]]
    def __init__(
        self,
        model: Model,
        persona: Optional[str] = None,
        format: str = "auto",
        *,
        user_label: str = "Me",
        bot_label: str = "Computer",
        **settings: Any,
    ) -> None: ...
    def send(self, text: str, *, stream: bool = False) -> Union[str, Iterator[str]]: ...
    @property
    def history(self) -> List[Dict[str, Any]]: ...
    def undo(self) -> bool: ...
    def reset(self) -> None: ...

def guard(text: str) -> Dict[str, Any]: ...
