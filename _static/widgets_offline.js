/* Loaded between require.js and the widget manager (embed-amd.js) on pages with saved widgets;
   see nb_ipywidgets_js in _config.yml.

   1. The manager's bundles are named AMD modules (@jupyter-widgets/base, ...). They find their
      font files from their own module URL, which require.js derives from its baseUrl: by default
      the page's folder, where no fonts are. Point the baseUrl at this build's widgets folder,
      which holds the fonts (see the Makefile).
   2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; this book serves
      MathJax 3, which has no Hub. A small stand-in forwards to MathJax 3's typesetPromise. */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (window.require && window.require.config && here) {
    // this file is _static/widgets_offline.js; the widgets folder is its sibling ../widgets/
    window.require.config({ baseUrl: new URL("../widgets/", here).href });
  }

  function hubShim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || typeof mj.typesetPromise !== "function") return;
    mj.Hub = {
      Queue: function (job) {
        var element = Array.isArray(job) ? job[2] : undefined;
        return mj.typesetPromise(element ? [element] : undefined).catch(function () {});
      },
    };
  }
  // MathJax 3 (deferred) has defined itself by DOMContentLoaded; the manager renders on load.
  document.addEventListener("DOMContentLoaded", hubShim);
  window.addEventListener("load", hubShim);
})();
