"""Adapting a model to a new corpus: choose what to label (`select`), collect the labels in
Label Studio (`label_studio`), check them (`audit`), and measure that it pays off
(`simulation`)."""
