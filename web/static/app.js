// talentmatch: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // occupation suggestions as an enterprise types a post title
  var title = document.querySelector("[data-suggest-occupation]");
  if (title) {
    var box = document.getElementById("occupation-suggestions");
    var code = document.querySelector("input[name=occupation_code]");
    var timer = null;
    title.addEventListener("input", function () {
      clearTimeout(timer);
      var q = title.value.trim();
      if (q.length < 2) { box.innerHTML = ""; return; }
      timer = setTimeout(function () {
        fetch(title.getAttribute("data-suggest-occupation") + "?q=" + encodeURIComponent(q),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            box.innerHTML = "";
            items.forEach(function (it) {
              var b = document.createElement("button");
              b.type = "button";
              b.textContent = it.code + "  " + it.name;
              b.addEventListener("click", function () { code.value = it.code; box.innerHTML = ""; });
              box.appendChild(b);
            });
            if (items.length) { box.setAttribute("aria-label", "职业编码建议"); }
          })
          .catch(function () { box.innerHTML = ""; });
      }, 250);
    });
  }

  // occupation names suggested as a seeker types the last item of a list (意向职业): the name is
  // put in place of what was typed; the server stores the code and shows the name again
  var names = document.querySelector("[data-suggest-names]");
  if (names) {
    var list = document.getElementById(names.getAttribute("aria-controls"));
    var wait = null;
    var lastItem = function () { var parts = names.value.split(/[,，、;；]/); return parts[parts.length - 1].trim(); };
    names.addEventListener("input", function () {
      clearTimeout(wait);
      var q = lastItem();
      if (q.length < 2) { list.innerHTML = ""; return; }
      wait = setTimeout(function () {
        fetch(names.getAttribute("data-suggest-names") + "?q=" + encodeURIComponent(q),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.innerHTML = "";
            items.forEach(function (it) {
              var b = document.createElement("button");
              b.type = "button";
              b.textContent = it.name;
              b.addEventListener("click", function () {
                var v = names.value, cut = Math.max(v.lastIndexOf(","), v.lastIndexOf("，"), v.lastIndexOf("、"),
                                                     v.lastIndexOf(";"), v.lastIndexOf("；"));
                names.value = (cut >= 0 ? v.slice(0, cut + 1) : "") + it.name;
                list.innerHTML = "";
                names.focus();
              });
              list.appendChild(b);
            });
          })
          .catch(function () { list.innerHTML = ""; });
      }, 250);
    });
  }

  // progress of a running job (fair match, import, gap report)
  var job = document.querySelector("[data-job-status]");
  if (job) {
    var bar = job.querySelector(".progress span");
    var meter = job.querySelector("progress");
    var label = job.querySelector("[data-job-label]");
    var poll = function () {
      fetch(job.getAttribute("data-job-status"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (bar) { bar.style.width = Math.round((s.progress || 0) * 100) + "%"; }
          if (meter) { meter.value = Math.round((s.progress || 0) * 100); }
          label.textContent = s.message || "";
          if (s.state === "done" || s.state === "failed") { window.location.href = s.next; }
          else { setTimeout(poll, 700); }
        })
        .catch(function () { setTimeout(poll, 1500); });
    };
    poll();
  }
})();
