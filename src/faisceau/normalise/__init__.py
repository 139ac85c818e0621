"""Normalisation: what an ad showed, turned into canonical values that keep what was shown.

Each module finds one kind of value in free text or in a field and returns ``Found`` items;
``ad.normalise_ad`` applies them all to one ad and says which field each value came from.
"""
