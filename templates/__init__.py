"""The report templates, shipped inside the package as ``diligence.templates``
(see ``diligence.resources``). This folder holds templates only."""
