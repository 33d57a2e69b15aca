"""The step notebooks, shipped inside the package as ``diligence.notebooks``
(see ``diligence.resources``). This folder holds notebooks only."""
