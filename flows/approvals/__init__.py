"""The approval flows around the plain-Python approvals core (``approvals/``).

A waiting document is ledger entries, nothing else: no run, no process. A signed decision is recorded at
once by the core (``decide``); publishing then runs as one short ``publish-decision`` flow run, in the
appliance for the workbench (``flows.reviewing.publisher``) and for ``docval approve``, which hands the
document over (``handoff``) or else starts a served run (``trigger.start_publish``); deadlines run as
``approval-deadlines`` runs scheduled for the next deadline (``deadlines``). ``enrol`` and ``cli`` hold
enrolment and the commands.
"""
