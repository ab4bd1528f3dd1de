"""From PDF bytes to validated, typed fields with findings (DESIGN.md steps 2-5). No Prefect here."""
