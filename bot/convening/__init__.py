"""Convening: strategy discussions and panels, their invitations and who took part."""
