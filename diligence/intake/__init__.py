"""Data intake: read a company's CRM exports, map them to the contract, check them (SPEC §2).

>>> intake = load_company("data/alpha", mapping="salesforce", as_of="2026-06-30")  # doctest: +SKIP
>>> intake.raise_for_errors()  # doctest: +SKIP
>>> intake.tables["accounts"]  # doctest: +SKIP
"""

from diligence.intake.issues import Issue, format_issues
from diligence.intake.load import Intake, load_company
from diligence.intake.mapping import preset_names

__all__ = ["Intake", "Issue", "format_issues", "load_company", "preset_names"]
