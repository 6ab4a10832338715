"""``g4f.providers.helper``: prompt helpers shared by g4f's providers."""

from g4f.typing import Messages

def format_media_prompt(messages: Messages, prompt: str | None = None) -> str:
    """``prompt`` when given, else the last user message's text (g4f's image providers' rule)."""
