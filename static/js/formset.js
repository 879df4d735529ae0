// Progressive enhancement: "Add a row" for Django formsets. Without JavaScript the
// form still offers blank extra rows, and saving shows new blank ones.
(function () {
  document.querySelectorAll("[data-formset-prefix]").forEach(function (set) {
    var prefix = set.getAttribute("data-formset-prefix");
    var total = set.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = set.querySelector("template.formset-empty");
    var rows = set.querySelector(".formset-rows");
    var button = set.querySelector(".formset-add");
    if (!total || !template || !rows || !button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = rows.lastElementChild && rows.lastElementChild.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  });
})();
