// MathJax for the formulas of the pages and docstrings (pymdownx.arithmatex, generic mode: \( \) and \[ \])
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
