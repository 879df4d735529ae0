"""Complaints (pengaduan, UU 25/2009 Pasal 36, 40, 42; SP4N-LAPOR!): received from the
public form of a service or a request, verified by the agency's complaint handlers,
forwarded to the unit, answered, closed or reopened once by the citizen.

- `models`: Complaint, its evidence files and its events (the complaint's audit trail).
- `states`: the states and the one transitions table every write goes through.
- `evidence`: what an uploaded file is (by content), re-encoding photos without metadata,
  the private storage outside the web root.
- `services`: the writes (`complaint_submit` is the one entry point for every channel).
- `privacy`: what of a complaint each viewer may see (identity, text, evidence).
- `selectors`: scoped reads and the public figures.
- `breaches`: the unanswered-complaint rule and the link to a request's breach.
- `notices`: the messages handed to the outbox.
"""
