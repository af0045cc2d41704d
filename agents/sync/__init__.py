"""Sensing population and twin-synchronisation games (MODEL Part B)."""
