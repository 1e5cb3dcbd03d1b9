// The web chat page: starts or resumes a Direct Line conversation on this server and renders
// Microsoft's Web Chat (window.WebChat, the botframework-webchat package's prebuilt bundle kept in vendor/) over it.
// The conversation id, its token, the user id and the chosen language are kept in localStorage,
// so a reload continues the same conversation.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('webchat-config').textContent);
  var STORAGE_KEY = 'pce.webchat.v1';
  var WEBCHAT_LOCALES = { en: 'en-US', uk: 'uk-UA' };

  var container = document.getElementById('webchat');
  var statusLine = document.getElementById('status');
  var startOverButton = document.getElementById('start-over');
  var languageButtons = Array.prototype.slice.call(document.querySelectorAll('button[data-lang]'));

  function readState() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY) || '{}') || {};
    } catch (e) {
      return {};
    }
  }
  function writeState(next) {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  }
  function randomId() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    var text = btoa(String.fromCharCode.apply(null, Array.prototype.slice.call(bytes)));
    return text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The site token never reaches this script: the server trades `/?token=…` for an HttpOnly cookie and
  // redirects here without it. An older page kept the raw token in this tab's storage; drop it.
  var params = new URLSearchParams(location.search);
  sessionStorage.removeItem('pce.webchat.siteToken');

  var state = readState();
  if (!state.userId) state.userId = 'wc_' + randomId();
  var askedLanguage = params.get('lang');
  if (askedLanguage === 'en' || askedLanguage === 'uk') state.locale = askedLanguage;
  if (state.locale !== 'en' && state.locale !== 'uk') state.locale = config.initialLocale;
  writeState(state);

  var session = null; // { directLine, store, conversationId, userId }

  function strings() {
    return config.strings[state.locale];
  }

  function showStatus(text, isError) {
    statusLine.textContent = text || '';
    statusLine.hidden = !text;
    statusLine.className = isError ? 'error' : '';
  }

  function applyPageLanguage() {
    var s = strings();
    document.documentElement.lang = state.locale;
    document.title = s.title;
    document.getElementById('title').textContent = s.title;
    document.getElementById('subtitle').textContent = s.subtitle;
    document.getElementById('language-group').setAttribute('aria-label', s.language);
    startOverButton.textContent = s.startOver;
    startOverButton.title = s.startOverHint;
    container.setAttribute('aria-label', s.chatLabel);
    languageButtons.forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-lang') === state.locale));
    });
  }

  function authHeaders(token) {
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  function startConversation() {
    return fetch(config.directLine + '/conversations', {
      method: 'POST',
      // The site cookie goes along (same origin); without one, only a browser on the bot's machine is let in.
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: { id: state.userId }, locale: WEBCHAT_LOCALES[state.locale] }),
    }).then(function (res) {
      // 429: this network started too many conversations (the server's per-client limit).
      if (res.status === 429) throw Object.assign(new Error('start conversation: HTTP 429'), { tooMany: true });
      if (!res.ok) throw new Error('start conversation: HTTP ' + res.status);
      return res.json();
    });
  }

  // A stored conversation is resumed when the server still knows it and still accepts its token. It is
  // resumed with a fresh token: the stored one may have little time left before Web Chat's first refresh.
  function resumeConversation() {
    if (!state.conversationId || !state.token) return Promise.resolve(null);
    return fetch(config.directLine + '/tokens/refresh', {
      method: 'POST',
      headers: authHeaders(state.token),
    }).then(
      function (res) {
        return res.ok ? res.json() : null;
      },
      function () {
        return null;
      },
    );
  }

  function render() {
    var s = strings();
    window.WebChat.renderWebChat(
      {
        directLine: session.directLine,
        store: session.store,
        userID: session.userId,
        locale: WEBCHAT_LOCALES[state.locale],
        styleOptions: {
          botAvatarInitials: s.botInitials,
          userAvatarInitials: s.userInitials,
          suggestedActionLayout: 'stacked',
          suggestedActionHeight: 'auto',
          hideUploadButton: false,
          // A chosen file goes out at once: the bot's attachment step answers it straight away.
          sendAttachmentOn: 'attach',
          // The bot's markdown never needs raw HTML; without it, no HTML in any message becomes an element.
          markdownRenderHTML: false,
        },
      },
      container,
    );
  }

  function connect(conversation) {
    state.conversationId = conversation.conversationId;
    state.token = conversation.token;
    // state.userId is this browser's own secret; the conversation's user id is derived from it on the
    // server and only used for this session (the secret is never replaced by the public id).
    writeState(state);
    var store = window.WebChat.createStore({}, function () {
      return function (next) {
        return function (action) {
          if (action.type === 'DIRECT_LINE/CONNECT_FULFILLED') showStatus('');
          if (action.type === 'DIRECT_LINE/CONNECT_REJECTED') showStatus(strings().connectFailed, true);
          return next(action);
        };
      };
    });
    var directLine = window.WebChat.createDirectLine({
      domain: config.directLine,
      token: conversation.token,
      conversationId: conversation.conversationId,
      webSocket: false,
      pollingInterval: config.pollingInterval,
    });
    keepTokenStored(directLine, conversation.conversationId);
    session = { directLine: directLine, store: store, conversationId: conversation.conversationId, userId: conversation.userId || state.userId };
    // A fresh element for each conversation: Web Chat is not meant to swap its store under a mounted tree.
    var fresh = container.cloneNode(false);
    container.parentNode.replaceChild(fresh, container);
    container = fresh;
    render();
  }

  // Web Chat refreshes the token on its own timer, and each refresh gives a new one (the old one soon
  // stops working): keep the newest, for a reload and for other tabs of this conversation.
  function keepTokenStored(directLine, conversationId) {
    var token = directLine.token;
    Object.defineProperty(directLine, 'token', {
      configurable: true,
      enumerable: true,
      get: function () {
        return token;
      },
      set: function (next) {
        token = next;
        if (next && state.conversationId === conversationId && state.token !== next) {
          state.token = next;
          writeState(state);
        }
      },
    });
  }

  // Another tab of this conversation refreshed the token: this one uses the new one too.
  window.addEventListener('storage', function (event) {
    if (event.key !== STORAGE_KEY || !session) return;
    var other;
    try {
      other = JSON.parse(event.newValue || '{}') || {};
    } catch (e) {
      return;
    }
    if (other.conversationId === session.conversationId && other.token && other.token !== session.directLine.token) {
      session.directLine.token = other.token;
    }
  });

  function begin(resumeFirst) {
    showStatus(strings().connecting);
    (resumeFirst ? resumeConversation() : Promise.resolve(null))
      .then(function (resumed) {
        return resumed || startConversation();
      })
      .then(connect)
      .catch(function (err) {
        showStatus(err && err.tooMany ? strings().tooManyRequests : strings().connectFailed, true);
      });
  }

  languageButtons.forEach(function (button) {
    button.addEventListener('click', function () {
      var next = button.getAttribute('data-lang');
      if (next === state.locale) return;
      state.locale = next;
      writeState(state);
      applyPageLanguage();
      if (!session) return;
      render();
      // The bot remembers the choice for this person and repeats the current question in that language.
      session.store.dispatch({ type: 'WEB_CHAT/SEND_EVENT', payload: { name: config.languageEvent, value: next } });
    });
  });

  startOverButton.addEventListener('click', function () {
    if (session) session.directLine.end();
    session = null;
    delete state.conversationId;
    delete state.token;
    writeState(state);
    begin(false);
  });

  applyPageLanguage();
  begin(true);
})();
