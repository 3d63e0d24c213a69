"""What people see: charts, the offline report, exports and the web dashboard/API.
"""
