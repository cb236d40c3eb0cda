// Agents' console: keeps the list of calls current from the server's event stream and
// sends the card's forms without leaving the page. Without this script the forms still work.
(function () {
  'use strict';
  var lista = document.getElementById('chamadas');
  var estado = document.getElementById('estado');
  var aviso = document.getElementById('aviso');
  var vazio = document.getElementById('vazio');
  var meta = document.querySelector('meta[name=csrf]');
  var csrf = meta ? meta.content : '';
  if (!lista) return;

  function mostrar(texto, erro) {
    if (!aviso) return;
    aviso.textContent = texto;
    aviso.className = erro ? 'erro' : 'ok';
    clearTimeout(mostrar.t);
    mostrar.t = setTimeout(function () { aviso.textContent = ''; aviso.className = ''; }, 8000);
  }

  function atualizarVazio() {
    if (vazio) vazio.hidden = lista.querySelector('article.cartao') !== null;
  }

  // The card's HTML comes from our server, escaped there.
  function cartao(id, html, aberta) {
    var atual = lista.querySelector('article.cartao[data-id="' + id + '"]');
    if (!aberta || !html) {
      if (atual && lista.dataset.eventos) atual.remove();
      else if (atual && html) atual.outerHTML = html;
      atualizarVazio();
      return;
    }
    var molde = document.createElement('template');
    molde.innerHTML = html.trim();
    var novo = molde.content.firstElementChild;
    if (!novo) return;
    if (atual) {
      // Keep what the agent is typing in the ticket form.
      var texto = atual.querySelector('textarea[name=texto]');
      var novoTexto = novo.querySelector('textarea[name=texto]');
      if (texto && novoTexto && texto.value) novoTexto.value = texto.value;
      atual.replaceWith(novo);
    } else {
      lista.prepend(novo);
      novo.classList.add('nova');
    }
    atualizarVazio();
  }

  lista.addEventListener('submit', function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    e.preventDefault();
    var botao = form.querySelector('button[type=submit]');
    if (botao) botao.disabled = true;
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf },
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) {
      if (r.status === 401) { location.href = lista.dataset.entrar || location.href; return null; }
      return r.json().then(function (d) { return { ok: r.ok, d: d }; });
    }).then(function (res) {
      if (!res) return;
      if (res.ok) {
        // A ticket sent: its text must not stay in the form.
        if (form.classList.contains('chamado')) form.reset();
        cartao(res.d.id, res.d.html, res.d.aberta);
        mostrar(res.d.mensagem, false);
      } else {
        mostrar(res.d.detail || 'Não foi possível concluir.', true);
      }
    }).catch(function () {
      mostrar('Sem conexão com o servidor. Tente novamente.', true);
    }).finally(function () {
      if (botao) botao.disabled = false;
    });
  });

  var url = lista.dataset.eventos;
  if (!url || !window.EventSource) return;
  var ultimo = lista.dataset.desde || '0';
  var fonte = null;

  function conectar() {
    fonte = new EventSource(url + '?desde=' + encodeURIComponent(ultimo));
    fonte.onopen = function () {
      estado.dataset.conectado = '1';
      estado.textContent = 'Ao vivo';
    };
    fonte.addEventListener('cartao', function (e) {
      if (e.lastEventId) ultimo = e.lastEventId;
      var d = JSON.parse(e.data);
      cartao(d.id, d.html, d.aberta);
      if (d.evento === 'nova' && d.aberta) mostrar('Nova chamada transferida.', false);
    });
    fonte.addEventListener('sair', function () {
      fonte.close();
      location.href = lista.dataset.entrar;
    });
    fonte.onerror = function () {
      estado.dataset.conectado = '0';
      estado.textContent = 'Reconectando…';
      // The browser retries by itself (sending Last-Event-ID); a refused stream (signed out,
      // server restarted) is retried here, from the last event seen.
      if (fonte.readyState === EventSource.CLOSED) {
        setTimeout(function () {
          fetch(location.href, { credentials: 'same-origin', redirect: 'manual' }).then(function (r) {
            if (r.type === 'opaqueredirect') location.href = lista.dataset.entrar;
            else conectar();
          }).catch(function () { setTimeout(conectar, 3000); });
        }, 2000);
      }
    };
  }
  conectar();
})();
