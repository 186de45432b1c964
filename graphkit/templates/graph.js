(function () {
  "use strict";
  var el = document.getElementById("gk-graph");
  var status = document.getElementById("gk-status");
  var data = JSON.parse(document.getElementById("gk-data").textContent);
  function say(text) { if (status) { status.textContent = text; } }
  function tip(lines) {
    var d = document.createElement("div");
    d.className = "gk-tip";
    for (var i = 0; i < lines.length; i++) {
      var p = document.createElement(i === 0 ? "b" : "div");
      p.textContent = lines[i];
      d.appendChild(p);
    }
    return d;
  }
  // ring pages carry fixed positions computed by graphkit (graphkit/layout.py): no physics;
  // other graphs (a notebook's neighbourhood) settle from seeded start positions
  var fixed = !!data.options.fixed;
  var font = data.options.font || 13;
  var nodes = data.nodes.map(function (n) {
    var o = {id: n.id, label: n.label, group: n.group, title: tip(n.tip), x: n.x, y: n.y};
    if (n.m) { o.borderWidth = 3; o.mass = 1.5; }
    else { o.opacity = 0.6; o.shapeProperties = {borderDashes: [4, 3]}; o.size = 10; }
    if (n.h) { o.size = 22; o.font = {size: data.options.hubFont || 16, bold: true}; }
    return o;
  });
  var edges = data.edges.map(function (e) {
    return {from: e.from, to: e.to, label: (!fixed || e.l) ? e.label : undefined, title: tip(e.tip),
            width: e.w, dashes: !!e.d,
            color: {color: e.c, highlight: "#d62728", opacity: e.d ? 0.35 : 1}};
  });
  var stats = {nodes: nodes.length, edges: edges.length, stabilized: false, stabilizeMs: null,
               iterations: fixed ? 0 : data.options.iterations};
  window.graphkitStats = stats;
  el.setAttribute("data-node-count", String(nodes.length));
  el.setAttribute("data-edge-count", String(edges.length));
  if (typeof vis === "undefined" || !vis.Network) {
    say("图形库未加载（vis-network 缺失）");
    return;
  }
  var big = nodes.length > 400;
  var options = {
    groups: data.groups,
    layout: {randomSeed: 7, improvedLayout: !fixed && nodes.length <= 150},
    interaction: {hover: true, tooltipDelay: 120, hideEdgesOnDrag: big, navigationButtons: false},
    nodes: {font: {size: font, face: "Noto Sans CJK SC, Microsoft YaHei, sans-serif",
                   background: "rgba(255,255,255,0.85)"}, size: 16},
    edges: {smooth: false, font: {size: 10, align: "horizontal", color: "#444", strokeWidth: 3},
            color: {inherit: false}},
    physics: fixed ? false : {
      solver: "barnesHut",
      barnesHut: {gravitationalConstant: -4000, centralGravity: 0.3, springLength: 110,
                  springConstant: 0.04, damping: 0.35, avoidOverlap: 0.1},
      minVelocity: 1.5,
      stabilization: {enabled: true, iterations: data.options.iterations, updateInterval: 50, fit: true}
    }
  };
  var t0 = performance.now();
  say("正在布局…（" + nodes.length + " 个节点）");
  var network = new vis.Network(el, {nodes: new vis.DataSet(nodes), edges: new vis.DataSet(edges)}, options);
  window.graphkitNetwork = network;
  function settled() {
    network.setOptions({physics: false});
    stats.stabilized = true;
    stats.stabilizeMs = Math.round(performance.now() - t0);
    el.setAttribute("data-stabilized", "1");
    network.fit();
    say("节点 " + nodes.length + "，连线 " + edges.length + "；布局用时 " + stats.stabilizeMs +
        " ms" + (fixed ? "（固定布局，可拖动节点）。" : "，已停止物理模拟（可拖动节点）。"));
  }
  if (fixed) {
    network.once("afterDrawing", settled);
    return;
  }
  network.on("stabilizationProgress", function (p) {
    say("正在布局… " + Math.round(100 * p.iterations / p.total) + "%");
  });
  network.once("stabilizationIterationsDone", settled);
})();
