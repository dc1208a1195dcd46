"""Allmende: a self-hostable node for sharing data, software and know-how over open standards."""

__version__ = "0.1.0"
