"""docval core: settings, domain types, the document store, shared errors and the CLI.

The core is the one place every package may import. It imports none of them
(only ``docval.cli`` wires their command groups together), so each package
stays testable on its own.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
