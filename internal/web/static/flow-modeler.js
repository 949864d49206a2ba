// The process modeler: the vendored bpmn-js Modeler plus our own properties
// panel (plain HTML rendered by the server, flow_modeler.html). The panel
// writes what our BPMN parser reads (internal/flow/bpmn): camunda:assignee,
// camunda:candidateGroups, camunda:dueDate, camunda:followUpDate and
// camunda:priority on user tasks; guanjia:formField, guanjia:nextSteps and
// guanjia:materials as extension elements; conditions on the flows out of
// a gateway; a timer event's duration. "Working time" is the business:
// prefix. Deploy posts the XML to the JSON API and shows its problems.
(function () {
  "use strict";
  var root = document.getElementById("modeler");
  if (!root || !window.BpmnJS) return;

  // Moddle descriptors for the attributes and elements we write; the
  // modeler keeps everything else it reads as it was.
  var CAMUNDA = {
    name: "Camunda", uri: "http://camunda.org/schema/1.0/bpmn", prefix: "camunda", xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [{
      name: "Assignable", "extends": ["bpmn:UserTask"],
      properties: ["assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority", "formKey"].map(function (n) {
        return { name: n, isAttr: true, type: "String" };
      })
    }]
  };
  var GUANJIA = {
    name: "Guanjia", uri: "http://guanjia.dev/bpmn", prefix: "guanjia", xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "FormField", superClass: ["Element"], properties: [
        { name: "id", isAttr: true, type: "String" }, { name: "label", isAttr: true, type: "String" },
        { name: "type", isAttr: true, type: "String" }, { name: "required", isAttr: true, type: "Boolean" },
        { name: "values", isAttr: true, type: "String" }] },
      { name: "NextSteps", superClass: ["Element"], properties: [{ name: "text", isBody: true, type: "String" }] },
      { name: "Materials", superClass: ["Element"], properties: [{ name: "text", isBody: true, type: "String" }] }
    ]
  };
  var BUSINESS = "business:";
  var KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

  var modeler = new window.BpmnJS({ container: "#canvas", moddleExtensions: { camunda: CAMUNDA, guanjia: GUANJIA } });
  window.guanjiaModeler = modeler; // scripts and browser tests load diagrams through it
  var modeling = modeler.get("modeling"), moddle = modeler.get("moddle"), canvas = modeler.get("canvas");

  var $ = function (id) { return document.getElementById(id); };
  var msg = function (name) { return root.getAttribute("data-msg-" + name) || ""; };
  var result = $("deploy-result"), deploy = $("modeler-deploy");
  var current = null; // the element whose properties the panel shows
  var filling = false; // true while the panel is being filled, so its events write nothing
  var writing = false; // true while the panel writes, so the change it causes does not refill it

  function newDiagram() {
    var id = "process_" + Math.random().toString(36).slice(2, 8);
    var name = (root.getAttribute("data-new-name") || "").replace(/[<&"]/g, "");
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" ' +
      'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://guanjia.dev/bpmn/processes">' +
      '<bpmn:process id="' + id + '" name="' + name + '" isExecutable="true"><bpmn:startEvent id="StartEvent_1"/></bpmn:process>' +
      '<bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="' + id + '">' +
      '<bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>' +
      '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
  }

  // ---- reading the selected element ----

  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }
  function timerOf(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return is(d, "bpmn:TimerEventDefinition"); })[0] || null;
  }
  function extensions(bo, type) {
    var ext = bo.extensionElements;
    return ((ext && ext.values) || []).filter(function (v) { return v.$type === type; });
  }
  function splitBusiness(v) {
    v = v || "";
    return v.indexOf(BUSINESS) === 0 ? { value: v.slice(BUSINESS.length), business: true } : { value: v, business: false };
  }
  function kindLabel(type) {
    var span = document.querySelector('#p-kinds [data-kind="' + type + '"]');
    return span ? span.textContent : type;
  }

  function show(el) {
    if (!el || !el.businessObject) return; // the empty canvas before a diagram is in
    current = el;
    filling = true;
    try { fill(el); } finally { filling = false; }
  }

  function fill(el) {
    var bo = el.businessObject;
    var isRoot = el === canvas.getRootElement();
    var sections = { process: isRoot, element: !isRoot, named: true, userTask: is(bo, "bpmn:UserTask"),
      condition: is(bo, "bpmn:SequenceFlow") && bo.sourceRef && (is(bo.sourceRef, "bpmn:ExclusiveGateway") || is(bo.sourceRef, "bpmn:InclusiveGateway")),
      timer: !!(bo.eventDefinitions && timerOf(bo)), none: isRoot };
    Array.prototype.forEach.call(root.querySelectorAll("[data-show]"), function (s) {
      s.hidden = !sections[s.getAttribute("data-show")];
    });
    var type = (bo.$type || "").replace(/^bpmn:/, "");
    $("p-kind").textContent = kindLabel(isRoot ? "process" : type.charAt(0).toLowerCase() + type.slice(1));
    $("p-key").value = isRoot ? bo.id || "" : "";
    $("p-key").classList.remove("invalid");
    $("p-id").value = bo.id || "";
    $("p-name").value = bo.name || "";
    if (sections.userTask) fillUserTask(bo);
    if (sections.condition) $("p-condition").value = (bo.conditionExpression && bo.conditionExpression.body) || "";
    if (sections.timer) {
      var t = timerOf(bo), d = splitBusiness(t.timeDuration && t.timeDuration.body);
      $("p-timer").value = d.value;
      $("p-timer-business").checked = d.business;
    }
  }

  function fillUserTask(bo) {
    $("p-assignee").value = bo.get("camunda:assignee") || "";
    var groups = (bo.get("camunda:candidateGroups") || "").split(",").map(function (g) { return g.trim(); }).filter(Boolean);
    var extra = [];
    var boxes = root.querySelectorAll('input[name="p-group"]');
    var roles = Array.prototype.map.call(boxes, function (b) { return b.value; });
    Array.prototype.forEach.call(boxes, function (b) { b.checked = groups.indexOf(b.value) >= 0; });
    groups.forEach(function (g) { if (roles.indexOf(g) < 0) extra.push(g); });
    $("p-groups-extra").value = extra.join(", ");
    var due = splitBusiness(bo.get("camunda:dueDate")), follow = splitBusiness(bo.get("camunda:followUpDate"));
    $("p-due").value = due.value;
    $("p-due-business").checked = due.business;
    $("p-follow").value = follow.value;
    $("p-follow-business").checked = follow.business;
    $("p-priority").value = bo.get("camunda:priority") || "";
    var rows = $("p-fields");
    rows.textContent = "";
    extensions(bo, "guanjia:FormField").forEach(function (f) { addFieldRow(f); });
    var next = extensions(bo, "guanjia:NextSteps")[0], mat = extensions(bo, "guanjia:Materials")[0];
    $("p-next").value = (next && next.text) || "";
    $("p-materials").value = (mat && mat.text) || "";
  }

  function addFieldRow(f) {
    var row = $("p-field-row").content.firstElementChild.cloneNode(true);
    var get = function (k) { return row.querySelector('[data-f="' + k + '"]'); };
    if (f) {
      get("id").value = f.id || "";
      get("label").value = f.label || "";
      get("type").value = f.type || "string";
      get("values").value = f.values || "";
      get("required").checked = !!f.required;
    }
    get("remove").addEventListener("click", function () { row.remove(); writeExtensions(); });
    $("p-fields").appendChild(row);
    return row;
  }

  // ---- writing into the diagram ----

  function write(fn) {
    writing = true;
    try { fn(); } finally { writing = false; }
  }
  function update(props) {
    if (!filling && current) write(function () { modeling.updateProperties(current, props); });
  }
  function withBusiness(value, business) {
    value = value.trim();
    return value ? (business ? BUSINESS : "") + value : undefined;
  }

  function writeGroups() {
    var groups = Array.prototype.filter.call(root.querySelectorAll('input[name="p-group"]'), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    $("p-groups-extra").value.split(/[,，\s]+/).forEach(function (g) { if (g && groups.indexOf(g) < 0) groups.push(g); });
    update({ "camunda:candidateGroups": groups.length ? groups.join(",") : undefined });
  }

  function writeExtensions() {
    if (filling || !current) return;
    var bo = current.businessObject;
    var ext = moddle.create("bpmn:ExtensionElements", { values: [] });
    var add = function (v) { v.$parent = ext; ext.values.push(v); };
    ((bo.extensionElements && bo.extensionElements.values) || []).forEach(function (v) {
      if (!/^guanjia:(FormField|NextSteps|Materials)$/.test(v.$type)) add(v);
    });
    Array.prototype.forEach.call($("p-fields").children, function (row) {
      var get = function (k) { return row.querySelector('[data-f="' + k + '"]'); };
      var id = get("id").value.trim();
      if (!id) return;
      var f = { id: id, type: get("type").value, required: get("required").checked };
      if (get("label").value.trim()) f.label = get("label").value.trim();
      if (f.type === "enum" && get("values").value.trim()) f.values = get("values").value.trim();
      add(moddle.create("guanjia:FormField", f));
    });
    if ($("p-next").value.trim()) add(moddle.create("guanjia:NextSteps", { text: $("p-next").value.trim() }));
    if ($("p-materials").value.trim()) add(moddle.create("guanjia:Materials", { text: $("p-materials").value.trim() }));
    var el = current;
    write(function () { modeling.updateProperties(el, { extensionElements: ext.values.length ? ext : undefined }); });
  }

  var writers = {
    "p-key": function (v) {
      var ok = KEY_RE.test(v);
      $("p-key").classList.toggle("invalid", !ok);
      if (ok) update({ id: v });
    },
    "p-name": function (v) { update({ name: v.trim() || undefined }); },
    "p-assignee": function (v) { update({ "camunda:assignee": v.trim() || undefined }); },
    "p-groups-extra": writeGroups,
    "p-due": function () { update({ "camunda:dueDate": withBusiness($("p-due").value, $("p-due-business").checked) }); },
    "p-due-business": function () { writers["p-due"](); },
    "p-follow": function () { update({ "camunda:followUpDate": withBusiness($("p-follow").value, $("p-follow-business").checked) }); },
    "p-follow-business": function () { writers["p-follow"](); },
    "p-priority": function (v) { update({ "camunda:priority": v.trim() || undefined }); },
    "p-next": writeExtensions,
    "p-materials": writeExtensions,
    "p-condition": function (v) {
      v = v.trim();
      update({ conditionExpression: v ? moddle.create("bpmn:FormalExpression", { body: v }) : undefined });
    },
    "p-timer": function () {
      if (filling || !current) return;
      var t = timerOf(current.businessObject);
      var v = withBusiness($("p-timer").value, $("p-timer-business").checked);
      var el = current;
      write(function () {
        modeling.updateModdleProperties(el, t, {
          timeDuration: v ? moddle.create("bpmn:FormalExpression", { body: v }) : undefined, timeDate: undefined, timeCycle: undefined
        });
      });
    },
    "p-timer-business": function () { writers["p-timer"](); }
  };

  root.addEventListener("change", function (e) {
    var t = e.target;
    if (filling) return;
    if (t.name === "p-group") return writeGroups();
    if (t.closest && t.closest("#p-fields")) return writeExtensions();
    var w = writers[t.id];
    if (w) w(t.type === "checkbox" ? t.checked : t.value);
  });
  root.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.tagName === "INPUT") e.target.blur(); // Enter commits the field
  });
  $("p-add-field").addEventListener("click", function () { addFieldRow(null).querySelector('[data-f="id"]').focus(); });

  modeler.on("selection.changed", function (e) { show(e.newSelection[0] || canvas.getRootElement()); });
  modeler.on("element.changed", function (e) {
    // A name typed on the canvas, an undo or a redo shows in the panel; the
    // panel's own writes come back here too and must not refill it.
    if (!writing && current && e.element === current) show(current);
  });
  modeler.on("import.done", function () {
    result.className = "";
    result.textContent = "";
    show(canvas.getRootElement());
    canvas.zoom("fit-viewport", "auto");
  });

  // ---- loading, downloading, deploying ----


  function say(cls, text, problems) {
    result.className = "flash " + cls;
    result.textContent = text;
    if (problems && problems.length) {
      var ol = document.createElement("ol");
      problems.forEach(function (p) {
        var li = document.createElement("li"), code = document.createElement("code");
        code.textContent = p;
        li.appendChild(code);
        ol.appendChild(li);
      });
      result.appendChild(ol);
    }
  }

  function load(xml) {
    return modeler.importXML(xml).then(function (r) {
      deploy.disabled = false;
      if (r.warnings && r.warnings.length) say("flash-warn", msg("warnings").replace("{n}", r.warnings.length));
      root.setAttribute("data-ready", "1");
    });
  }

  var src = root.getAttribute("data-source");
  var loading = src ? fetch(src, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) throw new Error("source: " + r.status);
    return r.text();
  }) : Promise.resolve(newDiagram());
  loading.then(load).catch(function () { say("flash-error", msg("load-error")); });

  $("modeler-download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (r) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([r.xml], { type: "application/xml" }));
      a.download = (canvas.getRootElement().businessObject.id || "process") + ".bpmn";
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  });

  deploy.addEventListener("click", function () {
    var csrf = document.querySelector('meta[name="csrf-token"]');
    deploy.disabled = true;
    say("flash-info", msg("deploying"));
    modeler.saveXML({ format: true }).then(function (r) {
      return fetch("/api/v1/process-definitions", {
        method: "POST", credentials: "same-origin", body: r.xml,
        headers: { "Content-Type": "application/xml", "Accept": "application/json", "X-CSRF-Token": csrf ? csrf.content : "" }
      });
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) { return { status: res.status, body: body }; });
    }).then(function (r) {
      if (r.status === 201 && r.body.id) {
        say("flash-ok", msg("deployed"));
        window.location.assign("/processes/" + r.body.id + "?ok=deployed");
        return;
      }
      var err = r.body.error || {};
      var details = err.details || {};
      say("flash-error", msg("failed") + " " + (err.message || r.status), details.problems || []);
      deploy.disabled = false;
    }).catch(function (e) {
      say("flash-error", msg("failed") + " " + e.message);
      deploy.disabled = false;
    });
  });
})();
