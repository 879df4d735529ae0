"""Delivery pages. `staff`: record, list, change status, import (under /staff/deliveries/).
The citizen's tracking page is in `delivery.public_views` for now."""
