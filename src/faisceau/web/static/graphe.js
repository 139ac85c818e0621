/* The entity page's link graph (cytoscape.js, served from /static/vendor).
   Without JavaScript the page still lists the entity's links; this only adds the graph.
   Page data comes from data- attributes and the JSON API (no inline script: CSP). */
(function () {
  "use strict";
  var box = document.getElementById("graphe");
  if (!box || typeof window.cytoscape === "undefined") {
    return;
  }
  var status = document.getElementById("graphe-etat");
  var pathButton = document.getElementById("graphe-chemin");
  var resetButton = document.getElementById("graphe-reinit");
  var start = box.dataset.node;
  var expanded = {};
  var chosen = [];

  var cy = window.cytoscape({
    container: box,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "text-valign": "bottom",
        "text-margin-y": 3, "width": 18, "height": 18, "background-color": "#1f4e8c",
        "text-wrap": "ellipsis", "text-max-width": 120 } },
      { selector: "node[kind = 'phone'], node[kind = 'email']", style: {
        "shape": "round-rectangle", "background-color": "#5b7c99" } },
      { selector: "node[kind = 'network']", style: {
        "shape": "hexagon", "background-color": "#8c5a1f" } },
      { selector: "node[kind = 'case']", style: {
        "shape": "rectangle", "background-color": "#444" } },
      { selector: "node[?sensitive]", style: { "background-color": "#a61b1b" } },
      { selector: "node.depart", style: { "border-width": 3, "border-color": "#111" } },
      { selector: "node.choisi", style: { "border-width": 4, "border-color": "#e0a800" } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#9aa5b5", "curve-style": "bezier" } },
      // Edge labels only where they are read: on a path and on a selected edge.
      { selector: "edge.chemin, edge:selected", style: {
        "label": "data(label)", "font-size": 8, "text-rotation": "autorotate",
        "color": "#555" } },
      { selector: ".chemin", style: { "line-color": "#e0a800", "width": 4,
        "background-color": "#e0a800" } }
    ]
  });

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function count() {
    box.dataset.nodes = String(cy.nodes().length);
  }

  function add(data) {
    var added = 0;
    data.nodes.forEach(function (n) {
      if (cy.getElementById(n.id).empty()) {
        cy.add({ group: "nodes", data: { id: n.id, label: n.label, kind: n.kind,
                                         url: n.url || "", sensitive: n.sensitive } });
        added += 1;
      }
    });
    data.edges.forEach(function (e) {
      var id = e.source + "\u0000" + e.target + "\u0000" + e.kind;
      if (cy.getElementById(id).empty()) {
        cy.add({ group: "edges", data: { id: id, source: e.source, target: e.target,
                                         label: e.label, kind: e.kind } });
      }
    });
    return added;
  }

  function layout() {
    cy.layout({ name: "cose", animate: false, fit: true, padding: 24 }).run();
    count();
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.detail || String(response.status));
          }
          return body;
        });
      });
  }

  function expand(id) {
    if (expanded[id]) {
      say("Nœud déjà étendu.");
      return;
    }
    expanded[id] = true;
    say("Chargement des voisins…");
    getJson(box.dataset.voisins + "?entite=" + encodeURIComponent(id) + "&profondeur=1")
      .then(function (data) {
        var added = add(data);
        cy.getElementById(start).addClass("depart");
        layout();
        say(added ? added + " nœud(s) ajouté(s)." : "Aucun nouveau voisin.");
        if (data.truncated) {
          say("Trop de voisins : liste tronquée.");
        }
      })
      .catch(function (error) {
        delete expanded[id];
        say("Impossible d'étendre ce nœud : " + error.message);
      });
  }

  function choose(node) {
    var at = chosen.indexOf(node.id());
    if (at >= 0) {
      chosen.splice(at, 1);
      node.removeClass("choisi");
    } else {
      chosen.push(node.id());
      node.addClass("choisi");
      if (chosen.length > 2) {
        cy.getElementById(chosen.shift()).removeClass("choisi");
      }
    }
    pathButton.disabled = chosen.length !== 2;
    say(chosen.length + " nœud(s) choisi(s) pour un chemin.");
  }

  function showPath() {
    if (chosen.length !== 2) {
      return;
    }
    cy.elements().removeClass("chemin");
    getJson(box.dataset.chemin + "?de=" + encodeURIComponent(chosen[0]) + "&a=" +
            encodeURIComponent(chosen[1]))
      .then(function (data) {
        if (!data.found) {
          say("Aucun chemin entre ces deux nœuds dans ce que vous pouvez consulter.");
          return;
        }
        add(data);
        layout();
        data.nodes.forEach(function (n) { cy.getElementById(n.id).addClass("chemin"); });
        data.edges.forEach(function (e) {
          cy.getElementById(e.source + "\u0000" + e.target + "\u0000" + e.kind)
            .addClass("chemin");
        });
        say("Chemin : " + (data.nodes.length - 1) + " étape(s).");
      })
      .catch(function (error) { say("Chemin impossible : " + error.message); });
  }

  cy.on("tap", "node", function (event) {
    if (event.originalEvent && event.originalEvent.shiftKey) {
      choose(event.target);
    } else {
      expand(event.target.id());
    }
  });
  cy.on("dbltap", "node", function (event) {
    var url = event.target.data("url");
    if (url) {
      window.location.assign(url);
    }
  });
  pathButton.addEventListener("click", showPath);
  resetButton.addEventListener("click", function () {
    cy.elements().remove();
    expanded = {};
    chosen = [];
    pathButton.disabled = true;
    expand(start);
  });

  expand(start);
}());
