"""The part of tqdm (4.x) that flux_sdk uses; tqdm ships no type information.

``flux_sdk.local`` only iterates ``tqdm.tqdm(iterable)``, so that Gradio's ``track_tqdm`` turns the
loop into progress events.
"""

from tqdm.std import tqdm as tqdm

__all__ = ["tqdm"]
