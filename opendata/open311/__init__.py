"""Open311 GeoReport v2 at /open311/v2/ (wiki.open311.org/GeoReport_v2, frozen spec).

What it maps:

- a **service** (`services.{fmt}`) is a public service with a published standard; its
  `service_code` is the service's id. Every service takes complaints, so `metadata` is
  true and `services/{code}.{fmt}` lists what the public complaint form asks as
  attributes (what went wrong, the date of the service, the two privacy choices, the
  request's tracking code). `type` is `batch`: a POST answers with a token.
- a **service request** (`requests.{fmt}`) is the public face of a delivery (a citizen's
  request: `D-<id>`) or of a complaint that is not confidential (`C-<id>`). Tracking
  codes are bearer secrets (they open the survey, the complaint form of a request and a
  complaint's status page), so lists never show them; a caller who holds one may look the
  request up by it (`requests/{code}`, `service_request_id=`, `tokens/{code}`).
  Confidential complaints are in no GET answer at all. No personal data is ever shown:
  no names, emails, phones, references, free text the citizen wrote (a complaint's text
  only once a handler moderated it and the complainant allowed publication).
- **POST requests.{fmt}** files a complaint through `complaint_submit`, the public form's
  own service function, privacy on unless the caller turns it off; it answers with the
  complaint's tracking code as the `token`.

XML is built with xml.etree (never parsed); JSON follows the spec's Spark convention.
"""
