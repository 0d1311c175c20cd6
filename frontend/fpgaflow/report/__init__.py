"""Build reports: report.json for tools, report.md for people, and plots of cycles and memory per layer."""
