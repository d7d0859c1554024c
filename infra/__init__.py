"""The monitoring program: configuration model and components."""
