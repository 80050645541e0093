"""The semantic classifier: a corpus written for both red lines, trained heads, and evaluation."""
