"""Seismic phase picks: hypoDD phase-format reader, station lists, 1-D velocity models."""
