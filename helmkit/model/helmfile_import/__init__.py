"""Translating an evaluated helmfile into helmkit's repository (``helmkit import``)."""
