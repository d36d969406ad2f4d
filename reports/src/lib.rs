//! buildprof reports: renderers for terminal, Markdown, HTML and charts.
