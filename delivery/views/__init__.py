"""Delivery pages for staff (`staff`: record, list, change status, import, under
/staff/deliveries/). The citizen's tracking page composes delivery and oversight, so it
lives in `public_site.views.tracking`."""
