"""The signal rules on numbers: at, just below and just above every threshold."""
