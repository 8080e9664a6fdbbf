"""The executive dashboard and the board pack: the whole portfolio for one quarter on one page."""
