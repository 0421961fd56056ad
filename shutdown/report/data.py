"""``ReportData``: what a report shows is the pipeline's record, ``shutdown.result.Result``
(``report.gather`` returns it analysed). The name stays, as an alias of that one type,
while branches written against it are merged (issue #21), then goes."""
from shutdown.result import Result

ReportData = Result
