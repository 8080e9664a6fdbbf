"""Northwind Mutual, a fictional insurer used to demonstrate Tollgate: its data (northwind/*.yaml, read by data.py) and
how it is built."""
