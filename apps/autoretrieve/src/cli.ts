console.log('autoretrieve: not yet')
