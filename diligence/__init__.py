"""The coverage diligence kit: does a sales organisation cover its market?

Calculations live in small modules named after what they compute
(``coverage``, ``balance``, ``pipeline``, ``channels``, ``governance``,
``capacity``, ``merger``, ``flags``); ``intake`` reads and validates a
company's CRM exports; ``run`` executes the step notebooks; ``report`` renders
HTML and Excel.
"""

__version__ = "0.1.0"
