"""Markdown tables, for the report and for what the training tools print (--plan, benchmark
summaries): a leaf module both halves of the study may use. Hand-written rather than tabulate's
"pipe" format, which pads every column and would change every generated file."""


def md_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
