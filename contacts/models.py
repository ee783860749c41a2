"""Contacts and companies (many-to-many). Filled by the contacts-and-companies issue."""
