"""Timeliness: what panel administrators and the partnership's board ask every month, the
Children in Need census's section 47 items, and the pictures and documents that show them.

`periods` names the spans reported on, `measures` counts them from the record with
aggregate SQL on the statutory calendar, `charts`, `report` and `census` present them, and
`listeners` is the Slack surface (`/strategy report`, the Home tab section)."""
