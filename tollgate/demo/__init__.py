"""Northwind Mutual, a fictional insurer used to demonstrate Tollgate: its data (data.py) and how it is built."""
