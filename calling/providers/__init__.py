"""Calling providers behind one interface (see :mod:`calling.providers.base`)."""

from calling.providers.base import (  # noqa: F401
    CallEvent,
    PlaceCall,
    PlacedCall,
    Provider,
    ProviderError,
    get,
    load,
    names,
)
