"""Shipped assets: fonts, icons and style sheets (a package so that installs carry it)."""
