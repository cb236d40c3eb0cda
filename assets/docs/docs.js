// Renders openapi.json as a list of routes grouped by tag; no library, nothing from the
// internet. Text is inserted with textContent only.
(function () {
  'use strict';
  var rotas = document.getElementById('rotas');
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function resolve(doc, schema) {
    if (schema && schema.$ref) {
      var name = schema.$ref.split('/').pop();
      return (doc.components && doc.components.schemas && doc.components.schemas[name]) || {};
    }
    return schema || {};
  }
  function typeOf(s) {
    if (!s) return '';
    if (s.enum) return s.enum.join(' | ');
    return Array.isArray(s.type) ? s.type.join('|') : (s.type || '');
  }
  function fieldsTable(doc, schema) {
    return shapeTable(doc, resolve(doc, schema));
  }
  // A table of the fields of one shape ({properties, required}).
  function shapeTable(doc, shape) {
    var props = shape.properties || {};
    var names = Object.keys(props);
    if (!names.length) return null;
    var t = el('table');
    var head = el('tr');
    ['campo', 'tipo', 'obrigatório', 'descrição'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    t.appendChild(head);
    names.forEach(function (n) {
      var p = resolve(doc, props[n]);
      var tr = el('tr');
      tr.appendChild(el('td', '', n));
      tr.appendChild(el('td', '', typeOf(p)));
      tr.appendChild(el('td', '', (shape.required || []).indexOf(n) >= 0 ? 'sim' : ''));
      tr.appendChild(el('td', '', props[n].description || p.description || ''));
      t.appendChild(tr);
    });
    return t;
  }
  // The alternative shapes of an answer: `oneOf` lists them, `allOf` joins its parts' fields,
  // a list shows the shapes of its items.
  function shapes(doc, schema, depth) {
    schema = resolve(doc, schema);
    if (depth > 8) return [];
    if (schema.oneOf) {
      return schema.oneOf.reduce(function (all, s) { return all.concat(shapes(doc, s, depth + 1)); }, []);
    }
    if (schema.allOf) {
      var joined = [{ properties: {}, required: [], description: schema.description }];
      schema.allOf.forEach(function (part) {
        var next = [];
        shapes(doc, part, depth + 1).forEach(function (p) {
          joined.forEach(function (j) {
            next.push({
              properties: Object.assign({}, j.properties, p.properties),
              required: j.required.concat(p.required || []),
              description: j.description || p.description
            });
          });
        });
        joined = next;
      });
      return joined;
    }
    if (schema.type === 'array' && schema.items) {
      return shapes(doc, schema.items, depth + 1).map(function (s) {
        return { properties: s.properties, required: s.required, description: 'Lista de: ' + (s.description || '') };
      });
    }
    return [{ properties: schema.properties || {}, required: schema.required || [], description: schema.description }];
  }
  function render(doc) {
    document.getElementById('titulo').textContent = doc.info.title + ' ' + doc.info.version;
    document.getElementById('descricao').textContent = doc.info.description || '';
    var groups = {};
    Object.keys(doc.paths).forEach(function (path) {
      var item = doc.paths[path];
      ['get', 'post', 'put', 'patch', 'delete'].forEach(function (m) {
        var op = item[m];
        if (!op) return;
        var tag = (op.tags && op.tags[0]) || 'Outros';
        (groups[tag] = groups[tag] || []).push({ path: path, method: m, op: op });
      });
    });
    rotas.textContent = '';
    Object.keys(groups).forEach(function (tag) {
      var section = el('section');
      section.appendChild(el('h2', '', tag));
      groups[tag].forEach(function (r) {
        var d = el('details');
        d.dataset.busca = (r.path + ' ' + (r.op.summary || '')).toLowerCase();
        var s = el('summary');
        s.appendChild(el('span', 'metodo ' + r.method, r.method.toUpperCase()));
        s.appendChild(el('span', 'caminho', r.path));
        s.appendChild(document.createTextNode(' ' + (r.op.summary || '')));
        d.appendChild(s);
        var body = el('div', 'corpo');
        var params = r.op.parameters || [];
        if (params.length) {
          body.appendChild(el('h4', '', 'Parâmetros'));
          var t = el('table');
          params.forEach(function (p) {
            var tr = el('tr');
            tr.appendChild(el('td', '', p.name));
            tr.appendChild(el('td', '', p['in']));
            tr.appendChild(el('td', '', p.required ? 'obrigatório' : ''));
            tr.appendChild(el('td', '', p.description || typeOf(p.schema)));
            t.appendChild(tr);
          });
          body.appendChild(t);
        }
        var rb = r.op.requestBody && r.op.requestBody.content;
        if (rb) {
          var types = Object.keys(rb);
          body.appendChild(el('h4', '', 'Corpo (' + types.join(', ') + ')'));
          var table = fieldsTable(doc, rb[types[0]].schema);
          if (table) body.appendChild(table);
        }
        var responses = r.op.responses || {};
        body.appendChild(el('h4', '', 'Respostas'));
        Object.keys(responses).forEach(function (code) {
          body.appendChild(el('div', '', code + ': ' + (responses[code].description || '')));
          var json = code.charAt(0) === '2' && responses[code].content &&
            responses[code].content['application/json'];
          if (!json || !json.schema) return;
          shapes(doc, json.schema, 0).forEach(function (shape) {
            if (shape.description) body.appendChild(el('p', '', shape.description));
            var table = shapeTable(doc, shape);
            if (table) body.appendChild(table);
          });
        });
        d.appendChild(body);
        section.appendChild(d);
      });
      rotas.appendChild(section);
    });
  }
  document.getElementById('filtro').addEventListener('input', function (e) {
    var q = e.target.value.toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) {
      d.hidden = q && d.dataset.busca.indexOf(q) < 0;
    });
  });
  fetch('../openapi.json').then(function (r) { return r.json(); }).then(render).catch(function () {
    rotas.textContent = 'Não foi possível carregar openapi.json.';
  });
})();
